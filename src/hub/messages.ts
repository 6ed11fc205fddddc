/** Validation of client-supplied messages and channel names, and their wire form for each format. */
import { fromBase64, toBase64, type Format } from './codec.ts'
import { HubError } from './errors.ts'

type Payload = string | Uint8Array

/** A message as a client sent it, validated; the hub assigns serial and timestamp when storing. */
export interface InboundMessage {
  id?: string
  name?: string
  data?: Payload
  encoding?: string
  clientId?: string
  extras?: Record<string, unknown>
  /** REST only: publish on behalf of the realtime connection holding this key. Never stored. */
  connectionKey?: string
}

/** A message as stored and delivered. */
export interface StoredMessage extends InboundMessage {
  id: string
  serial: string
  timestamp: number
  connectionId?: string
}

/** A presence event or member as stored; `serial` orders presence history. */
export interface PresenceEvent extends InboundPresence {
  id: string
  clientId: string
  connectionId: string
  timestamp: number
  serial: string
}

/** A presence event as a client sent it. */
export interface InboundPresence {
  action: number
  id?: string
  clientId?: string
  data?: Payload
  encoding?: string
  extras?: Record<string, unknown>
}

const MAX_CHANNEL_NAME = 2048
// Ably: not empty, must not start with `:` `,` `[` or whitespace, no line breaks. Control characters are
// refused as well: nothing legitimate needs them and they make logs lie.
const BAD_FIRST_CHARACTER = /^[:,[\s]/u
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is this pattern's purpose.
const BAD_CHARACTER = /[\u0000-\u001f\u007f\u0085\u2028\u2029]/u

/** Returns `value` if it is a valid channel name, else throws 40010. */
export function assertChannelName(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_CHANNEL_NAME || BAD_FIRST_CHARACTER.test(value) || BAD_CHARACTER.test(value)) {
    throw new HubError(40010, 'Invalid channel name', 400)
  }
  return value
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array)
}

function optionalString(record: Record<string, unknown>, field: string): string | undefined {
  const value = record[field]
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'string') throw new HubError(40000, `Message field "${field}" must be a string`, 400)
  return value
}

const MAX_EXTRAS_DEPTH = 16
const MAX_DATA_DEPTH = 64

function depthWithin(value: unknown, limit: number): boolean {
  if (typeof value !== 'object' || value === null || value instanceof Uint8Array) return true
  if (limit === 0) return false
  return Object.values(value).every((child) => depthWithin(child, limit - 1))
}

// Extras are re-encoded for every recipient, so they must be plain, shallow JSON-like data.
function optionalExtras(record: Record<string, unknown>): Record<string, unknown> | undefined {
  const value = record.extras
  if (value === undefined || value === null) return undefined
  if (!isRecord(value) || !depthWithin(value, MAX_EXTRAS_DEPTH)) {
    throw new HubError(40000, 'Message extras must be an object nested at most 16 deep', 400)
  }
  return value
}

/**
 * Normalises payload and encoding: a trailing `base64` step is decoded to bytes (stored as binary and
 * re-encoded per recipient), objects and arrays become JSON text with a `json` step, and other types
 * are refused with 40013.
 */
function parsePayload(record: Record<string, unknown>): Pick<InboundMessage, 'data' | 'encoding'> {
  const raw = record.data
  let encoding = optionalString(record, 'encoding') || undefined
  if (raw === undefined || raw === null) return { encoding }
  if (raw instanceof Uint8Array) return { data: raw, encoding }
  if (typeof raw === 'string') {
    const steps = encoding?.split('/') ?? []
    if (steps.at(-1) !== 'base64') return { data: raw, encoding }
    steps.pop()
    return { data: fromBase64(raw), encoding: steps.join('/') || undefined }
  }
  if (typeof raw === 'object' && !(raw instanceof Date) && depthWithin(raw, MAX_DATA_DEPTH)) {
    encoding = encoding ? `${encoding}/json` : 'json'
    return { data: JSON.stringify(raw), encoding }
  }
  throw new HubError(40013, 'Invalid message data or encoding', 400)
}

/**
 * Most messages, or presence events, in one publish. Ably refuses more with 40034 without publishing its
 * number; this is far above what ably-js sends and keeps the cost of one publish (stored messages, the
 * serials in its ACK) bounded, since the size check counts an empty message as 0 bytes, as Ably does.
 */
const MAX_MESSAGES_PER_PUBLISH = 1000

function assertMessageCount(count: number): void {
  if (count > MAX_MESSAGES_PER_PUBLISH) {
    throw new HubError(40034, `Too many messages in one publish (${count} > ${MAX_MESSAGES_PER_PUBLISH})`, 400)
  }
}

/** Validates one message or a list of messages (REST accepts either; realtime frames carry a list). */
export function parseMessages(input: unknown): InboundMessage[] {
  const list = Array.isArray(input) ? input : [input]
  if (list.length === 0) throw new HubError(40000, 'No messages to publish', 400)
  assertMessageCount(list.length)
  return list.map((item) => {
    if (!isRecord(item)) throw new HubError(40000, 'Each message must be an object', 400)
    // `size` (ably-js's cached byte count), `action`, `serial` and `timestamp` are the hub's to set.
    return {
      id: optionalString(item, 'id') || undefined,
      name: optionalString(item, 'name'),
      clientId: optionalString(item, 'clientId'),
      extras: optionalExtras(item),
      connectionKey: optionalString(item, 'connectionKey') || undefined,
      ...parsePayload(item),
    }
  })
}

const PRESENCE_ACTIONS = new Set([1, 2, 3, 4])

/** Validates the presence events of a PRESENCE frame. */
export function parsePresence(input: unknown): InboundPresence[] {
  if (!Array.isArray(input) || input.length === 0) throw new HubError(40000, 'PRESENCE needs presence events', 400)
  assertMessageCount(input.length)
  return input.map((item) => {
    if (!isRecord(item)) throw new HubError(40000, 'Each presence event must be an object', 400)
    const action = item.action
    if (typeof action !== 'number' || !PRESENCE_ACTIONS.has(action)) {
      throw new HubError(40000, 'Invalid presence action', 400)
    }
    return {
      action,
      id: optionalString(item, 'id') || undefined,
      clientId: optionalString(item, 'clientId'),
      extras: optionalExtras(item),
      ...parsePayload(item),
    }
  })
}

const utf8 = new TextEncoder()

function byteLength(value: string | undefined): number {
  return value === undefined ? 0 : utf8.encode(value).byteLength
}

/** The size Ably counts for a publish: name + clientId + extras JSON + data, summed over its messages. */
function publishSize(messages: readonly (InboundMessage | InboundPresence)[]): number {
  let total = 0
  for (const message of messages) {
    total += 'name' in message ? byteLength(message.name) : 0
    total += byteLength(message.clientId)
    total += message.extras ? byteLength(JSON.stringify(message.extras)) : 0
    total += typeof message.data === 'string' ? byteLength(message.data) : (message.data?.byteLength ?? 0)
  }
  return total
}

/** Throws 40009 when a publish exceeds `maxMessageSize`. */
export function assertPublishSize(messages: readonly (InboundMessage | InboundPresence)[], maxMessageSize: number): void {
  const size = publishSize(messages)
  if (size > maxMessageSize) {
    throw new HubError(40009, `Maximum message size exceeded (${size} > ${maxMessageSize} bytes)`, 413)
  }
}

/** A payload in the recipient's format: JSON clients get binary as base64 with a `base64` encoding step. */
function payloadToWire(data: Payload | undefined, encoding: string | undefined, format: Format): { data?: Payload; encoding?: string } {
  if (data instanceof Uint8Array && format === 'json') {
    return { data: toBase64(data), encoding: encoding ? `${encoding}/base64` : 'base64' }
  }
  return { data, encoding }
}

/** A stored message in the recipient's format, with the fields ably-js reads. */
export function messageToWire(message: StoredMessage, format: Format): Record<string, unknown> {
  return {
    id: message.id,
    name: message.name,
    clientId: message.clientId,
    connectionId: message.connectionId,
    timestamp: message.timestamp,
    serial: message.serial,
    extras: message.extras,
    action: 0,
    ...payloadToWire(message.data, message.encoding, format),
  }
}

/** A presence event in the recipient's format, optionally shown with another action (SYNC sends PRESENT). */
export function presenceToWire(event: PresenceEvent, format: Format, action = event.action): Record<string, unknown> {
  return {
    id: event.id,
    action,
    clientId: event.clientId,
    connectionId: event.connectionId,
    timestamp: event.timestamp,
    extras: event.extras,
    ...payloadToWire(event.data, event.encoding, format),
  }
}
