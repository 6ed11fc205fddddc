/**
 * Property: under any policy that loads -- the SMS inbox, the team chat, and generated ones -- a caller's credential and
 * the gateway reach exactly the channels the policy binds to that caller (owned, its groups', public), never another's.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { channelSegment } from '../../src/channels/segment.ts'
import { AppError } from '../../src/errors/index.ts'
import { gatewayPolicy, prepareMessages } from '../../src/gateway/prepare.ts'
import { OPERATIONS, permits } from '../../src/hub/capability.ts'
import {
  defineChannelPolicy,
  PolicyError,
  userPrincipal,
  type BrowserOperation,
  type ChannelPolicy,
  type KindDeclaration,
  type PolicyCaller,
  type Publisher,
} from '../../src/policy/index.ts'
import { smsInbox } from '../../src/policy/sms-inbox.ts'
import { teamChat } from './team-chat.ts'

/** Few values, so that users, teams, literals and segments often collide. */
const ids = ['alice', 'bob', 't1', 't2', 'x', 'general', 'sms', 'team', 'announcements', 'mentions', 'contacts', 'auth0|42', 'org:7', 'a@b.example']
/** Ids as the provider spells them, and the segments names hold (plain ids are their own segment). */
const values = [...new Set([...ids, ...ids.map(channelSegment)])]
const value = fc.constantFrom(...values)
const callerArb = fc
  .record({ userId: fc.constantFrom(...ids), memberships: fc.uniqueArray(fc.constantFrom(...ids), { maxLength: 3 }) })
  .map(({ userId, memberships }): PolicyCaller => ({ userId, segment: channelSegment(userId), roles: [], memberships }))

/** Whether the policy binds `channel` to `caller`: its owner segment is the caller's, its member segment one of the caller's groups, or it is public. */
function bindsTo(policy: ChannelPolicy, name: string, caller: PolicyCaller): boolean {
  const channel = policy.parse(name) as Record<string, string> | undefined
  if (!channel) return false
  const kind = policy.declaration.kinds[channel.kind as string] as KindDeclaration
  if (kind.owner !== undefined) return channel[kind.owner] === caller.segment
  if (kind.member !== undefined) return caller.memberships.map(channelSegment).includes(channel[kind.member] as string)
  return true
}

/** Channel names of the policy's forms, segments filled from `values`, plus near misses. */
function namesOf(policy: ChannelPolicy): fc.Arbitrary<string> {
  const forms = Object.values(policy.forms) as string[]
  const filled = fc.tuple(fc.constantFrom(...forms), fc.array(value, { minLength: 4, maxLength: 4 })).map(([form, fill]) => {
    let index = 0
    return form.replace(/\{[^}]+\}/g, () => fill[index++ % fill.length] as string)
  })
  return fc.oneof(
    filled,
    fc.tuple(filled, fc.constantFrom(':x', ':*', '*', '')).map(([name, tail]) => name + tail),
    fc.array(value, { minLength: 1, maxLength: 4 }).map((parts) => parts.join(':')),
  )
}

async function gatewayAccepts(policy: ChannelPolicy, caller: PolicyCaller, channelName: string): Promise<boolean> {
  const channel = policy.parse(channelName)
  const eventName = channel ? (policy.events[channel.kind] as string[])[0] : 'ping'
  try {
    await prepareMessages([{ channelName, eventName, data: {} }], false, {
      caller: userPrincipal(caller, []),
      policy: gatewayPolicy(policy),
      requestKey: undefined,
      maxMessageBytes: 65_536,
      newKey: () => 'k',
    })
    return true
  } catch (error) {
    if (!(error instanceof AppError)) throw error
    // A payload the schema refuses says nothing about ownership: the ownership check came first and let it through.
    return error.code === 'invalid_payload'
  }
}

function holdsFor(policy: ChannelPolicy, runs: number) {
  return fc.assert(
    fc.asyncProperty(callerArb, namesOf(policy), async (caller, name) => {
      const capability = policy.capability(caller)
      const bound = bindsTo(policy, name, caller)
      const channel = policy.parse(name)
      for (const operation of OPERATIONS) {
        // A trailing wildcard also covers names below a caller's own channel (`sms:alice:c1:x`), which are no channel
        // of the policy; every channel of the policy it covers is bound to this caller, with an operation its kind grants.
        if (channel && permits(capability, name, operation)) {
          expect(bound).toBe(true)
          expect(policy.declaration.kinds[channel.kind]?.browser).toContain(operation)
        }
      }
      // The gateway (no admin role, no role) lets a user publish only on a channel bound to it.
      if (await gatewayAccepts(policy, caller, name)) expect(bound).toBe(true)
    }),
    { numRuns: runs },
  )
}

/** Generated declarations, safe or not: kinds with namespaces, fixed parts and segments drawn from small sets. */
const part = fc.oneof(fc.constantFrom('x', 'general', 'team'), fc.constantFrom('{a}', '{b}', '{c}'))
const kindArb = fc
  .record({
    namespace: fc.constantFrom('sms', 'team', 'announcements', 'x'),
    rest: fc.array(part, { maxLength: 3 }),
    binding: fc.constantFrom('owner', 'member', 'none'),
    bindAt: fc.nat(2),
    browser: fc.subarray<BrowserOperation>(['subscribe', 'history', 'presence']),
    admins: fc.boolean(),
  })
  .map(({ namespace, rest, binding, bindAt, browser, admins }): KindDeclaration => {
    const pattern = [namespace, ...rest].join(':')
    const segments = [...pattern.matchAll(/\{([^}]+)\}/g)].map((match) => match[1] as string)
    const segment = segments[bindAt % Math.max(1, segments.length)]
    const bindingOf = binding === 'owner' && segment ? { owner: segment } : binding === 'member' && segment ? { member: segment } : {}
    const bound: Publisher[] = 'owner' in bindingOf ? ['owner'] : 'member' in bindingOf ? ['members'] : []
    return {
      pattern,
      ...bindingOf,
      browser,
      publishers: [...bound, ...(admins ? ['admins' as const] : []), 'server'],
      events: { ping: { data: (z) => z.strictObject({}) } },
    }
  })
const declarationArb = fc.dictionary(fc.constantFrom('k1', 'k2', 'k3', 'k4'), kindArb, { minKeys: 1, maxKeys: 4 })

describe('ownership under every policy', () => {
  it('the SMS inbox', () => holdsFor(smsInbox, 1500))
  it('the team chat', () => holdsFor(teamChat, 1500))

  it('generated policies: each one either loads and holds, or is refused saying why', async () => {
    let loaded = 0
    let refused = 0
    await fc.assert(
      fc.asyncProperty(declarationArb, async (kinds) => {
        let policy: ChannelPolicy
        try {
          policy = defineChannelPolicy({ kinds })
        } catch (error) {
          expect(error).toBeInstanceOf(PolicyError)
          expect((error as Error).message).toMatch(/^The channel policy is not safe:\n- /)
          refused++
          return
        }
        loaded++
        await holdsFor(policy, 40)
      }),
      { numRuns: 800 },
    )
    // Both sides were exercised.
    expect({ loaded: loaded > 20, refused: refused > 20, counts: `${loaded} loaded / ${refused} refused` }).toMatchObject({ loaded: true, refused: true })
  })
})
