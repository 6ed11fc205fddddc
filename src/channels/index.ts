/**
 * The channel grammar, used everywhere: token capabilities, the publish gateway, the server helpers and
 * the browser client.
 *
 *   sms:{userId}:{contactId}   one conversation between a user and a contact
 *   contacts:{userId}          changes to a user's contact list
 *   notifications:{userId}     everything else addressed to one user
 *
 * `{userId}` in a channel name is the user's segment, `channelSegment(userId)` (./segment.ts): the id itself
 * when it is 1–64 of `[A-Za-z0-9_-]`, otherwise a reversible or hashed form starting with `~`. The builders below take
 * the user id and encode it; a parsed `Channel` holds the segment.
 */
import { channelSegment, SEGMENT_PATTERN } from './segment.ts'

export { channelSegment, isAcceptedId, SEGMENT_PATTERN, segmentId } from './segment.ts'

/** Ids are ASCII only, with no trimming or normalising, so no two spellings name one channel. */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/

/** A parsed channel; `userId` is the user's segment as the name holds it (see above). */
export type Channel =
  | { readonly kind: 'sms'; readonly userId: string; readonly contactId: string }
  | { readonly kind: 'contacts'; readonly userId: string }
  | { readonly kind: 'notifications'; readonly userId: string }

export type ChannelKind = Channel['kind']

/** Whether `value` is a valid user, contact or phone-number id. */
export function isValidId(value: unknown): value is string {
  return typeof value === 'string' && ID_PATTERN.test(value)
}

/** Parses a channel name into its parts, or `undefined` when it is not exactly one of the three kinds. */
export function parseChannel(name: unknown): Channel | undefined {
  if (typeof name !== 'string' || name.length > 200) return undefined
  const parts = name.split(':')
  const [kind, userId, contactId] = parts
  if (userId === undefined || !SEGMENT_PATTERN.test(userId)) return undefined
  if (kind === 'sms' && parts.length === 3 && isValidId(contactId)) return { kind, userId, contactId }
  if ((kind === 'contacts' || kind === 'notifications') && parts.length === 2) return { kind, userId }
  return undefined
}

/** Formats a channel (holding a segment) as its name; throws `TypeError` on an invalid part (a caller's bug, not bad input). */
export function formatChannel(channel: Channel): string {
  if (!SEGMENT_PATTERN.test(channel.userId)) throw new TypeError(`Invalid user segment for a ${channel.kind} channel: ${JSON.stringify(channel.userId)}`)
  if (channel.kind === 'sms' && !isValidId(channel.contactId)) throw new TypeError(`Invalid id for a ${channel.kind} channel: ${JSON.stringify(channel.contactId)}`)
  return [channel.kind, channel.userId, ...(channel.kind === 'sms' ? [channel.contactId] : [])].join(':')
}

/** The channel of kind `kind` for the user `userId` (encoded as its segment). */
export const channelFor = (kind: ChannelKind, userId: string, contactId = ''): string =>
  formatChannel(kind === 'sms' ? { kind, userId: channelSegment(userId), contactId } : { kind, userId: channelSegment(userId) })

/** The name of the conversation channel between `userId` and `contactId`. */
export const conversationChannel = (userId: string, contactId: string) => channelFor('sms', userId, contactId)
/** The name of `userId`'s contact-updates channel. */
export const contactsChannel = (userId: string) => channelFor('contacts', userId)
/** The name of `userId`'s notifications channel. */
export const notificationsChannel = (userId: string) => channelFor('notifications', userId)

/** Whether the user `userId` owns `channel`. Exact, case-sensitive comparison of segments. */
export function isOwner(channel: Channel, userId: string): boolean {
  return channel.userId === channelSegment(userId)
}

/**
 * The events each channel kind accepts; anything else is refused before it reaches Ably.
 *
 *   sms:{userId}:{contactId}   message (an SMS in the conversation), message_status (its delivery state)
 *   contacts:{userId}          update (a contact added, changed, deleted, or "refresh the list")
 *   notifications:{userId}     sms_received (an incoming-SMS alert), phone_number_assignment, update (a notice)
 *
 * `sms_received` lives on the notifications channel, where the original server published it: it alerts the user
 * wherever they are in the app, not only inside the conversation. The `data` schema of each event is in `schemas.ts`.
 */
export const channelEvents = {
  sms: ['message', 'message_status'],
  contacts: ['update'],
  notifications: ['sms_received', 'phone_number_assignment', 'update'],
} as const satisfies Record<ChannelKind, readonly string[]>

export type EventName = (typeof channelEvents)[ChannelKind][number]

/** Every event name the product knows. */
export const eventNames: readonly EventName[] = [...new Set(Object.values(channelEvents).flat())]

/** Each channel kind's name, as a pattern (every id matches {@link ID_PATTERN}). */
export const CHANNEL_FORMS = {
  sms: 'sms:{userId}:{contactId}',
  contacts: 'contacts:{userId}',
  notifications: 'notifications:{userId}',
} as const satisfies Record<ChannelKind, string>

/**
 * What would have been valid, for the `details` of an `invalid_channel` (the channel forms and the id pattern) or
 * an `invalid_event` (the events each channel form accepts); nothing for other codes. Added to any details the
 * thrower gave (e.g. a batch item's `index`) where errors are rendered, so every thrower's error carries it.
 */
export function channelErrorHelp(code: string): Record<string, unknown> | undefined {
  if (code === 'invalid_channel') return { acceptedChannels: Object.values(CHANNEL_FORMS), idPattern: ID_PATTERN.source }
  if (code === 'invalid_event') {
    return { acceptedEvents: Object.fromEntries((Object.keys(CHANNEL_FORMS) as ChannelKind[]).map((kind) => [CHANNEL_FORMS[kind], channelEvents[kind]])) }
  }
  return undefined
}

/** Whether `kind` accepts `event`. */
export function acceptsEvent(kind: ChannelKind, event: unknown): event is EventName {
  return (channelEvents[kind] as readonly unknown[]).includes(event)
}

/** An Ably capability: resource → operations. */
export type Capability = Record<string, string[]>

/**
 * The least a browser needs: read its own channels. No `publish`: every message goes through the gateway,
 * where it is validated and persisted. `presence` only on the notifications channel, so the server can see
 * whether a user is online without letting a browser write anywhere else.
 */
export function userCapability(userId: string): Capability {
  const segment = channelSegment(userId)
  return {
    [`sms:${segment}:*`]: ['history', 'subscribe'],
    [contactsChannel(userId)]: ['history', 'subscribe'],
    [notificationsChannel(userId)]: ['history', 'presence', 'subscribe'],
  }
}
