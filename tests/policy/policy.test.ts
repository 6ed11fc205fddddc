/** The channel policy: load-time safety checks, and what a policy derives (parser, errors, capability, access). */
import { describe, expect, expectTypeOf, it } from 'vitest'
import { SEGMENT_PATTERN } from '../../src/channels/segment.ts'
import { permits } from '../../src/hub/capability.ts'
import {
  defineChannelPolicy,
  PolicyError,
  userPrincipal,
  type EventData,
  type KindDeclaration,
  type ParsedChannel,
  type PolicyCaller,
} from '../../src/policy/index.ts'
import { payloadCheck } from '../../src/policy/payloads.ts'
import { smsInbox, smsInboxChannels } from '../../src/policy/sms-inbox.ts'
import type { PolicyChannelEvent } from '../../src/client/index.ts'
import { teamChat, type TeamChat } from './team-chat.ts'

const ping = { ping: { data: (z: typeof import('zod').z) => z.strictObject({}) } }
const kind = (pattern: string, rest: Partial<KindDeclaration> = {}): KindDeclaration => ({
  pattern,
  browser: ['subscribe'],
  publishers: ['server'],
  events: ping,
  ...rest,
})
const refusal = (kinds: Record<string, KindDeclaration>, extra: object = {}) => {
  try {
    defineChannelPolicy({ kinds, ...extra })
  } catch (error) {
    expect(error).toBeInstanceOf(PolicyError)
    return (error as Error).message
  }
  throw new Error('the policy was accepted')
}
const caller = (userId: string, memberships: string[] = [], roles: string[] = []): PolicyCaller => ({ userId, segment: userId, roles, memberships })

describe('a policy that could give one user another user’s channels is refused when it is loaded', () => {
  it('overlapping patterns: two kinds that can name one channel', () => {
    expect(refusal({ a: kind('chat:{userId}', { owner: 'userId' }), b: kind('chat:{teamId}', { member: 'teamId' }) })).toMatch(/kinds "a" and "b" overlap/)
    // A user named "lobby" would own the lobby.
    expect(refusal({ a: kind('chat:{userId}', { owner: 'userId' }), b: kind('chat:lobby') })).toMatch(/overlap/)
    // Kinds that share a namespace but can never name one channel, nor cover each other, are fine.
    expect(() => defineChannelPolicy({ kinds: { a: kind('chat:{userId}:{x}', { owner: 'userId' }), b: kind('chat:lobby') } })).not.toThrow()
  })

  it('a capability wildcard of one kind that covers another kind', () => {
    // `news:*` (public) would cover `news:private:alice`.
    expect(refusal({ news: kind('news:{topic}'), private: kind('news:private:{userId}', { owner: 'userId' }) })).toMatch(/capability wildcard covers the other/)
    // `x:*` (public, cut at its first free segment) would cover `x:alice:general`.
    expect(refusal({ pub: kind('x:{a}:x'), own: kind('x:{a}:general', { owner: 'a' }) })).toMatch(/overlap/)
  })

  it('a wildcard spanning an owner or member segment', () => {
    expect(refusal({ a: kind('sms:{contactId}:{userId}', { owner: 'userId' }) })).toMatch(
      /\{contactId\} comes before the owner segment \{userId\}.*cover others' channels/,
    )
    expect(refusal({ a: kind('t:{room}:{teamId}', { member: 'teamId' }) })).toMatch(/before the member segment/)
  })

  it('a segment alphabet that allows ":" or "*" (or brackets, commas, spaces, non-ASCII)', () => {
    expect(refusal({ a: kind('a:{topic}') }, { segment: { alphabet: 'A-Za-z:', maxLength: 64 } })).toMatch(/allows ":".*':' or '\*'/)
    expect(refusal({ a: kind('a:{userId}', { owner: 'userId' }) }, { segments: { userId: { alphabet: 'A-Za-z:', maxLength: 64 } } })).toMatch(
      /\{userId\}: the alphabet allows ":"/,
    )
    expect(refusal({ a: kind('a:{userId}', { owner: 'userId' }) }, { segments: { userId: { alphabet: '\\w*', maxLength: 64 } } })).toMatch(/allows "\*"/)
    expect(refusal({ a: kind('a:{x}') }, { segment: { alphabet: '^,', maxLength: 64 } })).toMatch(/allows/)
    expect(refusal({ a: kind('a:{x}') }, { segment: { alphabet: '\\S', maxLength: 64 } })).toMatch(/allows/)
    expect(refusal({ a: kind('a:{x}') }, { segment: { alphabet: 'a-z', maxLength: 0 } })).toMatch(/maxLength/)
  })

  it('browser publish without saying it bypasses the gateway, and presence or publish on a public kind', () => {
    expect(refusal({ a: kind('a:{userId}', { owner: 'userId', browser: ['publish', 'subscribe'] }) })).toMatch(
      /bypasses-gateway.*validation, store, history and outbox/,
    )
    expect(refusal({ a: kind('news', { browser: ['presence'] }) })).toMatch(/public kind.*read-only/)
  })

  it('the namespace, publishers, events and id rules', () => {
    expect(refusal({ a: kind('{userId}', { owner: 'userId' }) })).toMatch(/first part must be fixed/)
    expect(refusal({ a: kind('a:{userId}', { publishers: ['owner'] }) })).toMatch(/publisher "owner"/)
    expect(refusal({ a: kind('a:{userId}', { owner: 'nope' }) })).toMatch(/owner segment \{nope\} is not in/)
    expect(refusal({ a: kind('a:{x}', { events: {} }) })).toMatch(/at least one event/)
    expect(refusal({ a: kind('a:{x}', { events: { e: { data: ping.ping.data, ids: { userId: 'userId' } } } }) })).toMatch(
      /ties userId to \{userId\}, which is not in the pattern/,
    )
    expect(refusal({ a: kind('a:b*') })).toMatch(/neither a fixed part/)
  })

  it('says every problem at once', () => {
    expect(refusal({ a: kind('{x}:{userId}', { owner: 'userId', browser: ['publish'] }) }).split('\n- ').length).toBeGreaterThan(3)
  })

  it('lets a kind say browsers publish, bypassing the gateway: its capability then has publish', () => {
    const chat = defineChannelPolicy({
      kinds: { cursor: kind('cursors:{userId}', { owner: 'userId', browser: ['publish', 'subscribe'], browserPublish: 'bypasses-gateway' }) },
    })
    expect(chat.capability(caller('alice'))).toEqual({ 'cursors:alice': ['publish', 'subscribe'] })
  })
})

describe('the SMS inbox policy', () => {
  it('passes every check defineChannelPolicy makes (the edge derives it unchecked), and derives the same', () => {
    const checked = defineChannelPolicy(smsInbox.declaration)
    const someone = caller('alice')
    expect(checked.capability(someone)).toEqual(smsInbox.capability(someone))
    expect([checked.kinds, checked.forms, checked.events, checked.namespaces]).toEqual([smsInbox.kinds, smsInbox.forms, smsInbox.events, smsInbox.namespaces])
    for (const name of ['sms:alice:c1', 'contacts:alice', 'notifications:alice', 'sms:alice', 'chat:alice']) {
      expect(checked.parse(name)).toEqual(smsInbox.parse(name))
      // The channels alone (what createApp's routes use by default) parse and grant the same.
      expect(smsInboxChannels.parse(name)).toEqual(smsInbox.parse(name))
    }
    expect(smsInboxChannels.capability(someone)).toEqual(smsInbox.capability(someone))
    expect(smsInboxChannels.presenceChannel('alice')).toBe(smsInbox.presenceChannel('alice'))
  })

  it('lists its namespaces, forms and events', () => {
    expect(smsInbox.namespaces).toEqual(['sms', 'contacts', 'notifications'])
    expect(smsInbox.forms).toEqual({ sms: 'sms:{userId}:{contactId}', contacts: 'contacts:{userId}', notifications: 'notifications:{userId}' })
  })
})

describe('the team chat policy', () => {
  const alice = caller('alice', ['t1', 't2'])

  it('parses and formats its three kinds', () => {
    expect(teamChat.parse('team:t1:general')).toEqual({ kind: 'room', teamId: 't1', roomId: 'general' })
    expect(teamChat.parse('announcements')).toEqual({ kind: 'announcements' })
    expect(teamChat.parse('announcements:x')).toBeUndefined()
    expect(teamChat.format('mentions', { userId: 'alice' })).toBe('mentions:alice')
    expect(teamChat.namespaces).toEqual(['team', 'mentions', 'announcements'])
  })

  it('grants each membership’s rooms, the user’s mentions and the announcements, and nothing else', () => {
    const capability = teamChat.capability(alice)
    expect(capability).toEqual({
      'team:t1:*': ['history', 'presence', 'subscribe'],
      'team:t2:*': ['history', 'presence', 'subscribe'],
      'mentions:alice': ['history', 'subscribe'],
      announcements: ['history', 'subscribe'],
    })
    expect(permits(capability, 'team:t3:general', 'subscribe')).toBe(false)
    expect(permits(capability, 'announcements', 'publish')).toBe(false)
    // A membership id is encoded as a segment (`a:b` → `~YTpi`); one the contract does not accept (`*`) grants nothing.
    expect(teamChat.capability(caller('bob', ['a:b', '*']))).toEqual({
      'team:~YTpi:*': ['history', 'presence', 'subscribe'],
      'mentions:bob': ['history', 'subscribe'],
      announcements: ['history', 'subscribe'],
    })
  })

  it('lets members publish in their teams’ rooms and admins (not members) publish announcements', () => {
    const room = teamChat.parse('team:t1:general')!
    const announcements = teamChat.parse('announcements')!
    expect(teamChat.mayPublish(userPrincipal(alice, ['admin']), room)).toBe(true)
    expect(teamChat.mayPublish(userPrincipal(caller('bob', ['t3']), ['admin']), room)).toBe(false)
    expect(teamChat.mayPublish(userPrincipal(alice, ['admin']), announcements)).toBe(false)
    expect(teamChat.mayPublish(userPrincipal(caller('root', [], ['admin']), ['admin']), announcements)).toBe(true)
    expect(teamChat.mayPublish({ kind: 'server' }, teamChat.parse('mentions:alice')!)).toBe(true)
    expect(teamChat.mayPublish(userPrincipal(alice, []), teamChat.parse('mentions:alice')!)).toBe(false)
    // Reading history follows the credential: a member reads the room, anyone the announcements, nobody another’s mentions.
    expect(teamChat.mayRead(userPrincipal(alice, []), announcements)).toBe(true)
    expect(teamChat.mayRead(userPrincipal(alice, []), teamChat.parse('mentions:alice')!)).toBe(true)
    expect(teamChat.mayRead(userPrincipal(alice, []), teamChat.parse('mentions:bob')!)).toBe(false)
  })

  it('ties payload ids to the channel’s segments', () => {
    const check = payloadCheck(teamChat)
    const room = teamChat.parse('team:t1:general')!
    const message = { teamId: 't1', roomId: 'general', authorId: 'alice', text: 'hi', sentAt: '2026-01-01T00:00:00Z' }
    expect(check(room, 'message', message)).toEqual({ ok: true, data: message })
    expect(check(room, 'message', { ...message, teamId: 't2' })).toEqual({
      ok: false,
      issues: [{ path: 'teamId', message: "Does not match the channel's teamId" }],
    })
  })

  it('says what would have been valid at the throw site', () => {
    expect(teamChat.invalidChannel({ index: 2 }).details).toEqual({
      index: 2,
      acceptedChannels: ['team:{teamId}:{roomId}', 'mentions:{userId}', 'announcements'],
      idPattern: '^[A-Za-z0-9_-]{1,64}$',
      // Owner and member segments hold `channelSegment` output: the caller contract's segment pattern.
      segmentPatterns: { teamId: SEGMENT_PATTERN.source, userId: SEGMENT_PATTERN.source },
    })
    expect(teamChat.invalidEvent().details).toEqual({
      acceptedEvents: { 'team:{teamId}:{roomId}': ['message', 'reaction'], 'mentions:{userId}': ['mention'], announcements: ['announcement'] },
    })
  })
})

describe('types inferred from the declaration (checked by tsc)', () => {
  it('payloads, parsed channels and client messages', () => {
    expectTypeOf<EventData<TeamChat, 'room', 'message'>>().toEqualTypeOf<{ teamId: string; roomId: string; authorId: string; text: string; sentAt: string }>()
    expectTypeOf<ParsedChannel<TeamChat, 'room'>>().toEqualTypeOf<{ readonly kind: 'room' } & { readonly teamId: string; readonly roomId: string }>()
    expectTypeOf<PolicyChannelEvent<TeamChat, 'announcements'>['name']>().toEqualTypeOf<'announcement'>()
    expectTypeOf<PolicyChannelEvent<TeamChat, 'room'>['name']>().toEqualTypeOf<'message' | 'reaction'>()
    expect(teamChat.kinds).toEqual(['room', 'mentions', 'announcements'])
  })
})
