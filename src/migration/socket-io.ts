/**
 * Socket.IO compatibility for server code moving to Ably: the `io.to(room).emit(event, data)` calls keep their
 * shape and publish through the server helpers (validated, stored, delivered once), following the original mapping:
 *
 *   io.to('user:123').emit('new_message', data)      → `message` on sms:123:{data.contactId}
 *   io.to('user:123').emit('contact_updated', data)  → `update` on contacts:123
 *
 * Unlike Socket.IO's `emit`, this one returns a promise: await it, since a refused message rejects.
 */
import { contactsChannel, conversationChannel, isValidId, type EventName } from '../channels/index.ts'
import { publish, type PublishResult, type ServerHelpers } from '../server/index.ts'

/** What the compat needs from the server helpers. */
export type SocketIoPublisher = Pick<ServerHelpers, 'publish'>

export interface SocketIoRoom {
  /** Publishes the Socket.IO event's Ably counterpart; rejects as the server helpers do for refused data. */
  emit(event: string, data: unknown): Promise<PublishResult>
}

export interface SocketIoCompat {
  /** The room of one user, `user:{userId}`; anything else is a `TypeError`. */
  to(room: string): SocketIoRoom
  /** Socket.IO's alias of `to`. */
  in(room: string): SocketIoRoom
}

/** Each Socket.IO event the original server emitted, with the Ably channel and event it became. */
export const socketIoEvents: Record<string, { eventName: EventName; channelName: (userId: string, data: unknown) => string }> = {
  new_message: { eventName: 'message', channelName: (userId, data) => conversationChannel(userId, contactIdOf(data)) },
  contact_updated: { eventName: 'update', channelName: (userId) => contactsChannel(userId) },
}

const ROOM = /^user:(.*)$/

/** The compat object; by default over the default server helpers (configured from `process.env` on first use). */
export function createSocketIoCompat(publisher: SocketIoPublisher = { publish }): SocketIoCompat {
  const to = (room: string): SocketIoRoom => {
    const userId = ROOM.exec(room)?.[1]
    if (!isValidId(userId)) throw new TypeError(`Only rooms named "user:{userId}" map to Ably channels, not ${JSON.stringify(room)}`)
    return {
      async emit(event, data) {
        const mapping = Object.hasOwn(socketIoEvents, event) ? socketIoEvents[event] : undefined
        if (!mapping) throw new TypeError(`No Ably mapping for the Socket.IO event ${JSON.stringify(event)}; known: ${Object.keys(socketIoEvents).join(', ')}`)
        return publisher.publish(mapping.channelName(userId, data), mapping.eventName, data)
      },
    }
  }
  return { to, in: to }
}

function contactIdOf(data: unknown): string {
  const contactId = typeof data === 'object' && data !== null ? (data as { contactId?: unknown }).contactId : undefined
  if (!isValidId(contactId)) throw new TypeError('new_message needs data.contactId, the conversation it belongs to')
  return contactId
}
