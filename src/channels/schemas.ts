/**
 * The `data` schema of every SMS inbox event, built from the policy's declarations (`src/policy/sms-inbox.ts`): one
 * strict zod object each, ids in the channel grammar, and the ids a payload carries must name its channel (a user id
 * through its segment). Node only.
 */
import type { EventData } from '../policy/index.ts'
import { payloadCheck, payloadSchemas, type DataResult } from '../policy/payloads.ts'
import { smsInbox, type SmsInbox } from '../policy/sms-inbox.ts'
import type { Channel } from './index.ts'

export type { DataIssue, DataResult } from '../policy/payloads.ts'

/** The schema of each event's `data`, by channel kind: exactly the events of `channelEvents`. */
export const eventSchemas = payloadSchemas(smsInbox)

export const messageData = eventSchemas.sms.message
export const messageStatusData = eventSchemas.sms.message_status
export const contactUpdateData = eventSchemas.contacts.update
export const smsReceivedData = eventSchemas.notifications.sms_received
export const phoneNumberAssignmentData = eventSchemas.notifications.phone_number_assignment
export const notificationData = eventSchemas.notifications.update

export type MessageData = EventData<SmsInbox, 'sms', 'message'>
export type MessageStatusData = EventData<SmsInbox, 'sms', 'message_status'>
export type ContactUpdateData = EventData<SmsInbox, 'contacts', 'update'>
export type SmsReceivedData = EventData<SmsInbox, 'notifications', 'sms_received'>
export type PhoneNumberAssignmentData = EventData<SmsInbox, 'notifications', 'phone_number_assignment'>
export type NotificationData = EventData<SmsInbox, 'notifications', 'update'>

const check = payloadCheck(smsInbox)

/** Parses `data` for `eventName` on `channel`, then checks that every id it carries names the channel. */
export function parseEventData(channel: Channel, eventName: string, data: unknown): DataResult {
  return check(channel, eventName, data)
}
