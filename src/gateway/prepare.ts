/**
 * Turns what a caller asked to publish into checked messages: the envelope, the channel and who may publish on it,
 * the event, the size as Ably counts it, the event's data schema, and the idempotency key with its fingerprint.
 * Every refusal is an `AppError`; nothing here touches the store or Ably.
 */
import { z } from 'zod'
import { IDEMPOTENCY_KEY, PublishBatch, PublishMessage } from '../contract/index.ts'
import { AppError } from '../errors/index.ts'
import type { ChannelPolicy, ParsedChannel, PolicyDeclaration, Principal } from '../policy/index.ts'
import { payloadCheck, type PayloadCheck } from '../policy/payloads.ts'
import { smsInbox } from '../policy/sms-inbox.ts'

/** The 403 text of the original API, kept so that clients matching on it keep working. */
export const FORBIDDEN_CHANNEL_MESSAGE = "Unauthorized: Cannot publish to other users' channels"

/** One message as a caller sends it, before any check. `id` is the caller's idempotency key for this message. */
export interface PublishItem {
  channelName?: unknown
  eventName?: unknown
  data?: unknown
  id?: string
}

/** A message that passed every check, ready to be stored. */
export interface PreparedMessage {
  channel: ParsedChannel<PolicyDeclaration>
  channelName: string
  /** The channel's owner or member segment ('' for a public channel), stored as the message's `ownerId`. */
  ownerId: string
  eventName: string
  data: Record<string, unknown>
  /** Bytes as Ably counts them: the name plus the data as sent (JSON text). */
  size: number
  /** Scoped to the caller, so two callers' keys never meet. */
  idempotencyKey: string
  /** True when the key was made here (no caller key or id): no stored message can hold it, so none is looked up. */
  newKey: boolean
  /** What was asked, to tell a retry from another request reusing the key; empty for a new key (never compared). */
  fingerprint: string
}

/** Who is calling: a verified user (an admin when a role is in `ABLY_ADMIN_ROLES`), or a trusted server holding the API key. */
export type Caller = Principal

/** A channel policy with its payload checks, as the gateway uses it. */
export interface GatewayPolicy {
  readonly policy: ChannelPolicy
  readonly payloads: PayloadCheck
}

/** The gateway's view of `policy`: its payload schemas are built on first use. */
export function gatewayPolicy(policy: ChannelPolicy = smsInbox): GatewayPolicy {
  return { policy, payloads: payloadCheck(policy) }
}

const defaultPolicy = gatewayPolicy()

// The contract's fields and no others; channel, event and data are checked one by one below, each with its own code.
const item = PublishMessage.extend({
  channelName: z.unknown().optional(),
  eventName: z.unknown().optional(),
  data: z.unknown().optional(),
})

/** Reads a request body: `{ channelName, eventName, data, id? }` or `{ messages: [...] }` with at most `maxBatch`. */
export function parseEnvelope(body: unknown, maxBatch: number): { items: PublishItem[]; batch: boolean } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new AppError('invalid_request', { message: 'The body must be a JSON object: { channelName, eventName, data } or { messages: [...] }.' })
  }
  if (!Object.hasOwn(body, 'messages')) return { items: [parseItem(body, undefined)], batch: false }
  const batch = PublishBatch.extend({ messages: z.array(z.unknown()).min(1).max(maxBatch) }).safeParse(body)
  if (!batch.success) {
    throw new AppError('invalid_request', { message: `"messages" must be an array of 1 to ${maxBatch} messages, and nothing else may be sent beside it.` })
  }
  return { items: batch.data.messages.map((message, index) => parseItem(message, index)), batch: true }
}

function parseItem(value: unknown, index: number | undefined): PublishItem {
  const result = item.safeParse(value)
  if (result.success) return result.data
  const fields = result.error.issues.flatMap((issue) => (issue.code === 'unrecognized_keys' ? issue.keys : issue.path.map(String)))
  throw new AppError('invalid_request', {
    message: 'The message has fields that are not allowed or not valid.',
    details: { ...(index !== undefined && { index }), fields: fields.slice(0, 10) },
  })
}

export interface PrepareOptions {
  caller: Caller
  /** The channel policy; the SMS inbox when absent. */
  policy?: GatewayPolicy
  /** The `Idempotency-Key` header, when sent. */
  requestKey: string | undefined
  maxMessageBytes: number
  /** Makes a key for a message sent without one. */
  newKey: () => string
}

/** Checks every item (all or nothing) and gives each its scoped idempotency key and fingerprint. */
export async function prepareMessages(items: readonly PublishItem[], batch: boolean, options: PrepareOptions): Promise<PreparedMessage[]> {
  const checked = items.map((entry, index) => checkItem(entry, batch ? index : undefined, options))
  const keys = new Set<string>()
  const scope = options.caller.kind === 'user' ? `u:${options.caller.userId}` : 's:server'
  // With a request key, a message's fingerprint covers the whole request: any change to it is a different request.
  const requestFingerprint = options.requestKey === undefined ? undefined : await sha256(canonicalJson(items.map(normalised)))
  const holder = items.findIndex((source) => source.id === undefined)
  return Promise.all(
    checked.map(async (message, index) => {
      const source = items[index] as PublishItem
      // One request key names one canonical request, whatever its envelope: the first message without its own id
      // holds the key itself, so a single message and `{ messages: [it] }` meet (a replay) and any other request with
      // the key meets its fingerprint (a 422). Other messages add a space and their index; keys have no spaces, so
      // `K 1` is never a key a caller sent.
      const newKey = source.id === undefined && options.requestKey === undefined
      const idempotencyKey =
        source.id !== undefined
          ? `${scope}:id:${source.id}`
          : options.requestKey !== undefined
            ? `${scope}:key:${options.requestKey}${index === holder ? '' : ` ${index}`}`
            : `${scope}:new:${options.newKey()}`
      if (keys.has(idempotencyKey)) throw new AppError('invalid_request', { message: 'Two messages in one request share an id.', details: { index } })
      keys.add(idempotencyKey)
      const fingerprint = newKey
        ? ''
        : requestFingerprint !== undefined && source.id === undefined
          ? `${requestFingerprint}#${index}`
          : await sha256(canonicalJson(normalised(source)))
      return { ...message, idempotencyKey, newKey, fingerprint }
    }),
  )
}

function checkItem(entry: PublishItem, index: number | undefined, options: PrepareOptions): Omit<PreparedMessage, 'idempotencyKey' | 'newKey' | 'fingerprint'> {
  const at = index === undefined ? {} : { details: { index } }
  if (entry.id !== undefined && !IDEMPOTENCY_KEY.test(entry.id)) {
    throw new AppError('invalid_request', { message: 'An idempotency key must be 1–255 printable ASCII characters without spaces.', ...at })
  }
  const { caller } = options
  const { policy, payloads } = options.policy ?? defaultPolicy
  const indexed = index === undefined ? undefined : { index }
  const channel = policy.parse(entry.channelName)
  if (!channel) throw policy.invalidChannel(indexed)
  if (!policy.mayPublish(caller, channel))
    throw new AppError('forbidden', { message: FORBIDDEN_CHANNEL_MESSAGE, ...at, reason: 'not a publisher of this channel' })
  if (!policy.acceptsEvent(channel.kind, entry.eventName)) throw policy.invalidEvent(indexed)
  const size = ablySize(entry.eventName, entry.data)
  if (size === undefined) throw new AppError('invalid_payload', at)
  if (size > options.maxMessageBytes) {
    throw new AppError('payload_too_large', { message: `The message is ${size} bytes as Ably counts them; the limit is ${options.maxMessageBytes}.`, ...at })
  }
  const parsed = payloads(channel, entry.eventName, entry.data)
  if (!parsed.ok) throw new AppError('invalid_payload', { details: { ...(index !== undefined && { index }), issues: parsed.issues } })
  return { channel, channelName: entry.channelName as string, ownerId: policy.ownerOf(channel), eventName: entry.eventName, data: parsed.data, size }
}

const encoder = new TextEncoder()

/**
 * A message's size as Ably counts it: the bytes of its name, clientId, extras and data as sent, where an object
 * travels as JSON text. We send no clientId or extras. `undefined` when the data cannot be serialised at all.
 */
function ablySize(name: string, data: unknown): number | undefined {
  let text: string | undefined
  try {
    text = typeof data === 'string' ? data : JSON.stringify(data)
  } catch {
    // Too deep to serialise (a RangeError) or not JSON at all: it could never be sent.
    return undefined
  }
  return text === undefined ? undefined : encoder.encode(name).length + encoder.encode(text).length
}

function normalised({ channelName, eventName, data, id }: PublishItem) {
  return { channelName, eventName, data, ...(id !== undefined && { id }) }
}

/** JSON with object keys sorted at every level, so equal values always give equal text. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value)
      .filter(([, child]) => child !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([key, child]) => `${JSON.stringify(key)}:${canonicalJson(child)}`).join(',')}}`
  }
  return JSON.stringify(value) ?? 'null'
}

async function sha256(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(text)))
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, '0')).join('')
}
