/**
 * The `data` schema of every event in `channelEvents`, one strict zod object each: unknown fields are refused,
 * ids follow the channel grammar, and the ids a payload carries must name the channel it is published on.
 * Kept apart from `./index.ts`, which ships to the edge and the browser without dependencies.
 */
import { z } from 'zod'
import { ID_PATTERN, type Channel, type ChannelKind, type channelEvents } from './index.ts'
import { channelSegment, isAcceptedId } from './segment.ts'

const id = z.string().regex(ID_PATTERN)
/** A user id as the identity provider spells it (`auth0|…`, an e-mail address, a 128-character uid): it names the channel through its segment. */
const userId = z.string().refine(isAcceptedId, 'Not a valid user id')
const isoTimestamp = z.iso.datetime({ offset: true })
/** An E.164 number we own or assign. */
const phoneNumber = z.string().regex(/^\+[1-9][0-9]{1,14}$/)
/** An SMS endpoint: a phone number (with or without `+`) or an alphanumeric sender id. */
const smsAddress = z.string().regex(/^(\+?[0-9]{1,15}|[A-Za-z0-9 ]{1,11})$/)
const text = (max: number) => z.string().max(max)

/** `message` on `sms:{userId}:{contactId}`: one SMS of the conversation, as in the original API. */
export const messageData = z.strictObject({
  contactId: id,
  userId,
  phoneNumberId: id,
  message: text(16_384),
  direction: z.enum(['inbound', 'outbound']),
  timestamp: isoTimestamp,
  from: smsAddress.optional(),
  to: smsAddress.optional(),
})

/** `message_status` on `sms:{userId}:{contactId}`: the delivery state of a message the user sent. */
export const messageStatusData = z.strictObject({
  messageId: id,
  status: z.enum(['queued', 'sent', 'delivered', 'failed']),
  timestamp: isoTimestamp,
  error: text(500).optional(),
})

/** A contact as the contacts channel carries it. `userId`, when present, must be the channel's. */
export const contact = z.strictObject({
  id,
  userId: userId.optional(),
  name: text(200).optional(),
  phoneNumber: smsAddress.optional(),
  email: z.email().max(254).optional(),
  phoneNumberId: id.optional(),
  unreadCount: z.int().min(0).max(1_000_000).optional(),
  lastMessage: text(500).optional(),
  lastMessageAt: isoTimestamp.optional(),
  createdAt: isoTimestamp.optional(),
  updatedAt: isoTimestamp.optional(),
})

/** `update` on `contacts:{userId}`: a contact added, updated or deleted, or "refresh the whole list". */
export const contactUpdateData = z.discriminatedUnion('action', [
  z.strictObject({ action: z.literal('refresh') }),
  z.strictObject({ action: z.enum(['add', 'update', 'delete']), contact }),
])

/** `sms_received` on `notifications:{userId}`: an incoming-SMS alert, as the original `publishIncomingSMS` sent it. */
export const smsReceivedData = z.strictObject({
  phoneNumberId: id,
  from: smsAddress,
  message: text(16_384),
  timestamp: isoTimestamp,
  preview: text(200).optional(),
})

/** `phone_number_assignment` on `notifications:{userId}`, as in the original API. */
export const phoneNumberAssignmentData = z.strictObject({
  phoneNumberId: id,
  phoneNumber,
  action: z.enum(['assigned', 'unassigned']),
})

/** `update` on `notifications:{userId}`: a short notice for the user. */
export const notificationData = z.strictObject({
  type: id,
  title: text(200).optional(),
  message: z.string().min(1).max(2000),
  timestamp: isoTimestamp,
})

/** The schema of each event's `data`, by channel kind: exactly the events of `channelEvents`. */
export const eventSchemas = {
  sms: { message: messageData, message_status: messageStatusData },
  contacts: { update: contactUpdateData },
  notifications: { sms_received: smsReceivedData, phone_number_assignment: phoneNumberAssignmentData, update: notificationData },
} as const satisfies { [K in ChannelKind]: Record<(typeof channelEvents)[K][number], z.ZodType> }

export type MessageData = z.infer<typeof messageData>
export type MessageStatusData = z.infer<typeof messageStatusData>
export type ContactUpdateData = z.infer<typeof contactUpdateData>
export type SmsReceivedData = z.infer<typeof smsReceivedData>
export type PhoneNumberAssignmentData = z.infer<typeof phoneNumberAssignmentData>
export type NotificationData = z.infer<typeof notificationData>

/** Where a payload went wrong: the field path and zod's message, never the offending value. */
export interface DataIssue {
  path: string
  message: string
}

export type DataResult = { ok: true; data: Record<string, unknown> } | { ok: false; issues: DataIssue[] }

/**
 * Parses `data` for `eventName` on `channel` (the event must already be allowed there, see `acceptsEvent`), then
 * checks that every id it carries names the channel: `userId` and `contactId`, and a contact's `userId`.
 */
export function parseEventData(channel: Channel, eventName: string, data: unknown): DataResult {
  const schemas: Record<string, z.ZodType<Record<string, unknown>> | undefined> = eventSchemas[channel.kind]
  const schema = Object.hasOwn(schemas, eventName) ? schemas[eventName] : undefined
  if (!schema) return { ok: false, issues: [{ path: '', message: `No schema for event "${eventName}" on ${channel.kind} channels` }] }
  const result = schema.safeParse(data)
  if (!result.success) {
    return { ok: false, issues: result.error.issues.slice(0, 10).map((issue) => ({ path: issue.path.join('.'), message: issue.message })) }
  }
  const issues = disagreements(channel, result.data)
  return issues.length > 0 ? { ok: false, issues } : { ok: true, data: result.data }
}

function disagreements(channel: Channel, data: Record<string, unknown>): DataIssue[] {
  const contact = data.contact
  // A user id names the channel when its segment is the channel's (the id itself for plain ids).
  const asSegment = (value: unknown) => (isAcceptedId(value) ? channelSegment(value) : value)
  const checks: { path: string; actual: unknown; wanted: string }[] = [
    { path: 'userId', actual: asSegment(data.userId), wanted: channel.userId },
    { path: 'contact.userId', actual: asSegment(typeof contact === 'object' && contact !== null && 'userId' in contact ? contact.userId : undefined), wanted: channel.userId },
    ...(channel.kind === 'sms' ? [{ path: 'contactId', actual: data.contactId, wanted: channel.contactId }] : []),
  ]
  return checks
    .filter(({ actual, wanted }) => actual !== undefined && actual !== wanted)
    .map(({ path }) => ({ path, message: `Does not match the channel's ${path === 'contactId' ? 'contactId' : 'userId'}` }))
}
