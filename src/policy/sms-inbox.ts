/**
 * The SMS inbox: the default channel policy, and the first worked example of the README's "Writing a channel policy".
 *
 *   sms:{userId}:{contactId}   one conversation between a user and a contact: message, message_status
 *   contacts:{userId}          changes to a user's contact list: update
 *   notifications:{userId}     everything else addressed to one user: sms_received, phone_number_assignment, update
 *
 * Browsers read their own channels (presence only on notifications, so a server can see who is online) and never
 * publish: every message goes through the gateway, which validates, stores and delivers it. The owner, an admin and a
 * server may publish. `sms_received` lives on the notifications channel, where the original server published it: it
 * alerts the user wherever they are in the app.
 *
 * Written in two steps, the channels and then each kind's events, so the edge entries carry the channels alone
 * (`smsInboxChannels`); built in, so derived without the load-time checks, which the suite runs on it instead.
 */
import { isAcceptedId } from './caller.ts'
import type { ChannelPolicy, Zod } from './index.ts'
import { builtInChannels, builtInPolicy, withEvents } from './built-in.ts'
import { channels } from './sms-inbox-channels.ts'

/** Ids are ASCII only, with no trimming or normalising, so no two spellings name one channel. */
const id = (z: Zod) => z.string().regex(/^[A-Za-z0-9_-]{1,64}$/)
/** A user id as the identity provider spells it (`auth0|…`, an e-mail address, a 128-character uid): it names the channel through its segment. */
const userId = (z: Zod) => z.string().refine(isAcceptedId, 'Not a valid user id')
const isoTimestamp = (z: Zod) => z.iso.datetime({ offset: true })
/** An E.164 number we own or assign. */
const phoneNumber = (z: Zod) => z.string().regex(/^\+[1-9][0-9]{1,14}$/)
/** An SMS endpoint: a phone number (with or without `+`) or an alphanumeric sender id. */
const smsAddress = (z: Zod) => z.string().regex(/^(\+?[0-9]{1,15}|[A-Za-z0-9 ]{1,11})$/)

/** A contact as the contacts channel carries it. `userId`, when present, must be the channel's. */
const contact = (z: Zod) =>
  z.strictObject({
    id: id(z),
    userId: userId(z).optional(),
    name: z.string().max(200).optional(),
    phoneNumber: smsAddress(z).optional(),
    email: z.email().max(254).optional(),
    phoneNumberId: id(z).optional(),
    unreadCount: z.int().min(0).max(1_000_000).optional(),
    lastMessage: z.string().max(500).optional(),
    lastMessageAt: isoTimestamp(z).optional(),
    createdAt: isoTimestamp(z).optional(),
    updatedAt: isoTimestamp(z).optional(),
  })

/**
 * The SMS inbox without its events: what the stats and presence routes use (their default), so an edge entry carries
 * no payload schema code.
 */
export const smsInboxChannels = /* @__PURE__ */ builtInChannels(channels)

const declared = /* @__PURE__ */ builtInPolicy(
  /* @__PURE__ */ withEvents(channels, {
    sms: {
      /** One SMS of the conversation, as in the original API. */
      message: {
        data: (z) =>
          z.strictObject({
            contactId: id(z),
            userId: userId(z),
            phoneNumberId: id(z),
            message: z.string().max(16_384),
            direction: z.enum(['inbound', 'outbound']),
            timestamp: isoTimestamp(z),
            from: smsAddress(z).optional(),
            to: smsAddress(z).optional(),
          }),
        ids: { userId: 'userId', contactId: 'contactId' },
      },
      /** The delivery state of a message the user sent. */
      message_status: {
        data: (z) =>
          z.strictObject({
            messageId: id(z),
            status: z.enum(['queued', 'sent', 'delivered', 'failed']),
            timestamp: isoTimestamp(z),
            error: z.string().max(500).optional(),
          }),
      },
    },
    contacts: {
      /** A contact added, updated or deleted, or "refresh the whole list". */
      update: {
        data: (z) =>
          z.discriminatedUnion('action', [
            z.strictObject({ action: z.literal('refresh') }),
            z.strictObject({ action: z.enum(['add', 'update', 'delete']), contact: contact(z) }),
          ]),
        ids: { 'contact.userId': 'userId' },
      },
    },
    notifications: {
      /** An incoming-SMS alert, as the original `publishIncomingSMS` sent it. */
      sms_received: {
        data: (z) =>
          z.strictObject({
            phoneNumberId: id(z),
            from: smsAddress(z),
            message: z.string().max(16_384),
            timestamp: isoTimestamp(z),
            preview: z.string().max(200).optional(),
          }),
      },
      phone_number_assignment: {
        data: (z) => z.strictObject({ phoneNumberId: id(z), phoneNumber: phoneNumber(z), action: z.enum(['assigned', 'unassigned']) }),
      },
      /** A short notice for the user. */
      update: {
        data: (z) =>
          z.strictObject({
            type: id(z),
            title: z.string().max(200).optional(),
            message: z.string().min(1).max(2000),
            timestamp: isoTimestamp(z),
          }),
      },
    },
  }),
)

type Declared = typeof declared.declaration
/**
 * The SMS inbox's declaration, as a type. An interface, so the declarations emitted for the modules built on it (the
 * channels, schemas, client and server helpers) name it instead of repeating all of it each time.
 */
export interface SmsInbox extends Declared {}
/** The whole SMS inbox: its channels and each kind's events with their payload schemas (the gateway's and the client's). */
export const smsInbox: ChannelPolicy<SmsInbox> = declared
