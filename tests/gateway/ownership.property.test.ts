/** Property: no generated pair of channel and user lets one user publish to another user's channel. */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { channelSegment, isAcceptedId, SEGMENT_PATTERN, segmentId } from '../../src/auth/caller.ts'
import { channelFor as channelOfUser, formatChannel, parseChannel, type ChannelKind } from '../../src/channels/index.ts'
import { AppError } from '../../src/errors/index.ts'
import { prepareMessages, type PublishItem } from '../../src/gateway/prepare.ts'
import { userPrincipal } from '../../src/policy/index.ts'
import { appToken } from '../support/fixtures.ts'
import { gatewayApp, publish, smsMessage } from './support.ts'

const id = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/)
const kind = fc.constantFrom<ChannelKind>('sms', 'contacts', 'notifications')
/** Strings that look like channel names: the grammar's own characters, wildcards, brackets, case, space and look-alikes. */
const hostile = fc.string({ unit: fc.constantFrom(...'smsSMcontactsnotifications:*[]aA-_ .\n\u0430\u0131\u202e%/'.split('')), maxLength: 40 })

/** The channel of `kind` owned by `userId` (`contactId` names the conversation of an sms channel). */
const channelFor = (kind: ChannelKind, userId: string, contactId: string) => formatChannel(kind === 'sms' ? { kind, userId, contactId } : { kind, userId })

/** Two different users, a channel kind and a conversation: `foreign` is bob's channel of that kind. */
const twoUsers = fc
  .tuple(id, id, kind, id)
  .filter(([alice, bob]) => alice !== bob)
  .map(([alice, bob, k, contactId]) => ({ alice, k, contactId, foreign: channelFor(k, bob, contactId) }))

/** A valid payload for `channel`, whichever user it belongs to, so only ownership can refuse it. */
function validItem(channelName: string, ownerId?: string): PublishItem {
  const channel = parseChannel(channelName)
  // The payload names the owner by id: given, or read back from a reversible segment.
  if (channel?.kind === 'sms')
    return { channelName, eventName: 'message', data: smsMessage(ownerId ?? segmentId(channel.userId) ?? channel.userId, channel.contactId) }
  if (channel?.kind === 'contacts') return { channelName, eventName: 'update', data: { action: 'refresh' } }
  return { channelName, eventName: 'update', data: { type: 'info', message: 'hi', timestamp: '2024-01-15T10:30:00Z' } }
}

async function accepted(userId: string, item: PublishItem): Promise<boolean> {
  // An id verification refuses (empty, control characters, `*`) is never a caller.
  if (!isAcceptedId(userId)) return false
  try {
    await prepareMessages([item], false, {
      caller: userPrincipal({ userId, segment: channelSegment(userId), roles: [], memberships: [] }, []),
      requestKey: undefined,
      maxMessageBytes: 65_536,
      newKey: () => 'k',
    })
    return true
  } catch (error) {
    if (error instanceof AppError) return false
    throw error
  }
}

describe('ownership holds for every generated channel and user', () => {
  it('a message is accepted only on a channel whose userId is exactly the caller', async () => {
    const channelName = fc.oneof(
      fc.tuple(kind, id, id).map(([k, userId, contactId]) => channelFor(k, userId, contactId)),
      hostile,
      fc.tuple(kind, id, hostile).map(([k, userId, tail]) => `${k}:${userId}${tail}`),
    )
    await fc.assert(
      fc.asyncProperty(fc.oneof(id, hostile), channelName, async (userId, name) => {
        if (await accepted(userId, validItem(name))) expect(parseChannel(name)?.userId).toBe(channelSegment(userId))
      }),
      { numRuns: 3000 },
    )
  })

  it('someone else’s channel is refused even with a payload naming the caller, and one’s own is accepted', async () => {
    await fc.assert(
      fc.asyncProperty(twoUsers, async ({ alice, k, contactId, foreign }) => {
        expect(await accepted(alice, validItem(foreign))).toBe(false)
        expect(
          await accepted(alice, { ...validItem(foreign), channelName: foreign, data: k === 'sms' ? smsMessage(alice, contactId) : validItem(foreign).data }),
        ).toBe(false)
        const own = channelFor(k, alice, contactId)
        expect(await accepted(alice, validItem(own))).toBe(true)
      }),
      { numRuns: 2000 },
    )
  })

  it('through the app: generated foreign channels always get 403 and nothing reaches Ably', async () => {
    const { app, ably } = gatewayApp()
    await fc.assert(
      fc.asyncProperty(twoUsers, async ({ alice, foreign }) => {
        const { status } = await publish(app, validItem(foreign), { token: await appToken({ userId: alice }) })
        expect(status).toBe(403)
      }),
      { numRuns: 150 },
    )
    expect(ably.requests).toBe(0)
  })
})

/**
 * Issue 12: provider ids (`auth0|…`, e-mail addresses, 128-character Firebase uids, Unicode) become channel segments.
 * Ids from the grammar's own characters, look-alikes, `@`, `|`, `~` and any Unicode, up to the 256-character bound.
 */
const wideId = fc
  .oneof(
    id,
    fc.string({ unit: fc.constantFrom(...'aA0_-|@.:*[],~ %/\u0430\u202e\u00e9'.split('')), minLength: 1, maxLength: 70 }),
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 256 }),
    fc.tuple(fc.constantFrom('auth0|', 'google-oauth2|', 'user_', ''), fc.stringMatching(/^[0-9a-f]{1,130}$/)).map(([prefix, rest]) => prefix + rest),
    fc.emailAddress(),
  )
  .filter(isAcceptedId)

describe('the segment encoding, for every accepted id', () => {
  it('is a safe, bounded channel segment, reversible unless hashed, and never shows an e-mail address', () => {
    fc.assert(
      fc.property(wideId, (userId) => {
        const segment = channelSegment(userId)
        expect(segment).toMatch(SEGMENT_PATTERN)
        expect(segment.length).toBeLessThanOrEqual(64)
        expect(segment).not.toMatch(/[:*[\],\s]/)
        if (segment.startsWith('~~')) expect(segmentId(segment)).toBeUndefined()
        else expect(segmentId(segment)).toBe(userId)
        if (userId.includes('@')) expect(segment.startsWith('~~')).toBe(true)
        for (const kind of ['sms', 'contacts', 'notifications'] as const) expect(parseChannel(channelOfUser(kind, userId, 'c1'))?.userId).toBe(segment)
      }),
      { numRuns: 3000 },
    )
  })

  it('is injective: two different ids never share a segment', () => {
    fc.assert(
      fc.property(wideId, wideId, (a, b) => {
        if (a !== b) expect(channelSegment(a)).not.toBe(channelSegment(b))
      }),
      { numRuns: 3000 },
    )
  })

  it('ownership holds with provider ids: another user’s channel is refused, one’s own accepted', async () => {
    await fc.assert(
      fc.asyncProperty(wideId, wideId, kind, id, async (alice, bob, k, contactId) => {
        fc.pre(alice !== bob)
        expect(await accepted(alice, validItem(channelOfUser(k, bob, contactId), bob))).toBe(false)
        const own = channelOfUser(k, alice, contactId)
        expect(await accepted(alice, validItem(own, alice))).toBe(true)
        // A payload naming another user (by the provider's id) on one's own channel is refused too.
        if (k === 'sms') expect(await accepted(alice, validItem(own, bob))).toBe(false)
      }),
      { numRuns: 1500 },
    )
  })
})
