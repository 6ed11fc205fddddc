import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { acceptsEvent, channelEvents, conversationChannel, formatChannel, isOwner, parseChannel, userCapability } from '../../src/channels/index.ts'
import { permits, type Operation } from '../../src/hub/capability.ts'
import { HOSTILE_CHANNEL_NAMES } from '../support/fixtures.ts'

/** Ably's wildcard rules, as the local hub implements them (one matcher for the hub and this test). */
const capabilityAllows = (capability: Record<string, string[]>, channel: string, operation: Operation) => permits(capability, channel, operation)

const id = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/)

describe('parseChannel / formatChannel', () => {
  it.each([
    ['sms:alice:c1', { kind: 'sms', userId: 'alice', contactId: 'c1' }],
    ['contacts:alice', { kind: 'contacts', userId: 'alice' }],
    ['notifications:alice', { kind: 'notifications', userId: 'alice' }],
    [`sms:${'a'.repeat(64)}:B_-9`, { kind: 'sms', userId: 'a'.repeat(64), contactId: 'B_-9' }],
  ])('%s parses', (name, expected) => {
    expect(parseChannel(name)).toEqual(expected)
  })

  // Hostile channel names, C03–C22 of the security cases: none parses.
  it.each([...HOSTILE_CHANNEL_NAMES, '', 'unknown:alice'])('%j is refused', (name) => {
    expect(parseChannel(name)).toBeUndefined()
  })

  it.each([123, ['sms:alice:c1'], {}, null, undefined, true])('a non-string %j is refused', (value) => {
    expect(parseChannel(value)).toBeUndefined()
  })

  it('round-trips every valid channel', () => {
    fc.assert(
      fc.property(id, id, fc.constantFrom('sms', 'contacts', 'notifications'), (userId, contactId, kind) => {
        const channel = kind === 'sms' ? ({ kind, userId, contactId } as const) : ({ kind, userId } as const)
        expect(parseChannel(formatChannel(channel))).toEqual(channel)
      }),
    )
  })

  it('formatChannel throws TypeError on an invalid id (a programming error)', () => {
    expect(() => conversationChannel('alice', '*')).toThrow(TypeError)
    // Ids a verifier never accepts: empty, Ably's wildcard clientId, control characters (issue 12 widened the rest).
    for (const id of ['', '*', 'a\nb']) expect(() => userCapability(id)).toThrow(TypeError)
    // A provider id with grammar characters is encoded, never put in a channel name as it is.
    expect(Object.keys(userCapability('a:b'))).toEqual(['sms:~YTpi:*', 'contacts:~YTpi', 'notifications:~YTpi'])
  })
})

describe('ownership and events', () => {
  it('is exact and case-sensitive', () => {
    const channel = parseChannel('sms:alice:c1')!
    expect(isOwner(channel, 'alice')).toBe(true)
    expect(isOwner(channel, 'Alice')).toBe(false)
    expect(isOwner(channel, 'alice ')).toBe(false)
  })

  it('accepts only the events in the table', () => {
    expect(acceptsEvent('sms', 'message')).toBe(true)
    expect(acceptsEvent('contacts', 'message')).toBe(false)
    for (const bad of ['', 'x'.repeat(65), 'msg\n', '__proto__', 'constructor', 'MESSAGE']) expect(acceptsEvent('sms', bad)).toBe(false)
    expect(Object.keys(channelEvents)).toEqual(['sms', 'contacts', 'notifications'])
  })
})

describe('userCapability under Ably wildcard rules', () => {
  const channelOf = fc.oneof(
    fc.tuple(id, id).map(([userId, contactId]) => formatChannel({ kind: 'sms', userId, contactId })),
    id.map((userId) => formatChannel({ kind: 'contacts', userId })),
    id.map((userId) => formatChannel({ kind: 'notifications', userId })),
  )

  it('no resource issued to one user matches another user’s channel', () => {
    fc.assert(
      fc.property(id, id, fc.constantFrom('sms', 'contacts', 'notifications'), id, (alice, bob, kind, contactId) => {
        fc.pre(alice !== bob)
        const channel = kind === 'sms' ? conversationChannel(bob, contactId) : formatChannel({ kind, userId: bob })
        for (const op of ['subscribe', 'history', 'presence', 'publish'] as const) expect(capabilityAllows(userCapability(alice), channel, op)).toBe(false)
      }),
      { numRuns: 2000 },
    )
  })

  it('no generated channel of any owner grants publish, and reads are granted only on the user’s own channels', () => {
    fc.assert(
      fc.property(id, channelOf, (user, channel) => {
        const owned = parseChannel(channel)!.userId === user
        expect(capabilityAllows(userCapability(user), channel, 'publish')).toBe(false)
        expect(capabilityAllows(userCapability(user), channel, 'subscribe')).toBe(owned)
        expect(capabilityAllows(userCapability(user), channel, 'history')).toBe(owned)
      }),
      { numRuns: 2000 },
    )
  })

  it('grants exactly subscribe and history on the user’s channels, presence only on notifications', () => {
    const cap = userCapability('alice')
    expect(capabilityAllows(cap, 'sms:alice:c1', 'subscribe')).toBe(true)
    expect(capabilityAllows(cap, 'sms:alice:c1', 'presence')).toBe(false)
    expect(capabilityAllows(cap, 'notifications:alice', 'presence')).toBe(true)
  })
})

describe('the segment hash', () => {
  it('is SHA-256: equal to WebCrypto’s digest for lengths around every block boundary and for random bytes', async () => {
    const { sha256 } = await import('../../src/channels/sha256.ts')
    const inputs = [0, 1, 55, 56, 63, 64, 65, 119, 120, 128, 1000].map((n) => crypto.getRandomValues(new Uint8Array(n)))
    inputs.push(new TextEncoder().encode('abc'))
    for (const input of inputs) expect(sha256(input)).toEqual(new Uint8Array(await crypto.subtle.digest('SHA-256', input)))
    expect(Buffer.from(sha256(new TextEncoder().encode('abc'))).toString('hex')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
  })
})
