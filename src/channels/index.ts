/**
 * The SMS inbox's channels, derived from its policy (`src/policy/sms-inbox.ts`, the default policy): the names and
 * helpers existing code and apps import. Every rule lives in the policy; nothing here restates one.
 *
 *   sms:{userId}:{contactId}   one conversation between a user and a contact
 *   contacts:{userId}          changes to a user's contact list
 *   notifications:{userId}     everything else addressed to one user
 *
 * `{userId}` in a channel name is the user's segment, `channelSegment(userId)` (./segment.ts): the id itself
 * when it is 1–64 of `[A-Za-z0-9_-]`, otherwise a reversible or hashed form starting with `~`. The builders below take
 * the user id and encode it; a parsed `Channel` holds the segment.
 */
import type { Capability, EventName as PolicyEventName, KindName, ParsedChannel } from '../policy/index.ts'
import { smsInbox, type SmsInbox } from '../policy/sms-inbox.ts'
import { channelSegment } from './segment.ts'

export type { Capability } from '../policy/index.ts'
export { channelSegment, isAcceptedId, SEGMENT_PATTERN, segmentId } from './segment.ts'

/** Ids are ASCII only, with no trimming or normalising, so no two spellings name one channel. */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/

/** A parsed channel; `userId` is the user's segment as the name holds it (see above). */
export type Channel = ParsedChannel<SmsInbox>
export type ChannelKind = KindName<SmsInbox>

/** Whether `value` is a valid user, contact or phone-number id. */
export function isValidId(value: unknown): value is string {
  return typeof value === 'string' && ID_PATTERN.test(value)
}

/** Parses a channel name into its parts, or `undefined` when it is not exactly one of the three kinds. */
export const parseChannel = (name: unknown): Channel | undefined => smsInbox.parse(name)

/** Formats a channel (holding a segment) as its name; throws `TypeError` on an invalid part (a caller's bug, not bad input). */
export function formatChannel(channel: Channel): string {
  const { kind, ...segments } = channel
  return smsInbox.format(kind, segments as never)
}

/** The channel of kind `kind` for the user `userId` (encoded as its segment). */
export const channelFor = (kind: ChannelKind, userId: string, contactId = ''): string =>
  kind === 'sms' ? smsInbox.format('sms', { userId: channelSegment(userId), contactId }) : smsInbox.format(kind, { userId: channelSegment(userId) })

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

/** The events each channel kind accepts (the policy's); anything else is refused before it reaches Ably. */
export const channelEvents = smsInbox.events

export type EventName = { [K in ChannelKind]: PolicyEventName<SmsInbox, K> }[ChannelKind]

/** Every event name the product knows. */
export const eventNames: readonly EventName[] = [...new Set(Object.values(channelEvents).flat())]

/** Each channel kind's name, as a pattern (every id matches {@link ID_PATTERN}; `{userId}` is the user's segment). */
export const CHANNEL_FORMS = smsInbox.forms

/** Whether `kind` accepts `event`. */
export const acceptsEvent = (kind: ChannelKind, event: unknown): event is EventName => smsInbox.acceptsEvent(kind, event)

/** The least a browser needs under the SMS inbox policy: read its own channels, presence on notifications, no publish. */
export function userCapability(userId: string): Capability {
  return smsInbox.capability({ userId, segment: channelSegment(userId), roles: [], memberships: [] })
}
