/**
 * The port through which the API talks to Ably's REST API, so that real Ably and the local hub serve it alike.
 * Plain `fetch` with Basic auth: a few hundred bytes at the edge instead of an SDK (see README, "Stats bundle").
 */
import type { AblyKey } from '../config/index.ts'
import type { ChannelOccupancy } from '../contract/index.ts'

/** A message as Ably's REST API takes it. `id` makes the publish idempotent. */
export interface AblyMessage {
  id?: string
  name: string
  data: unknown
  clientId?: string
}

export interface ChannelStatus {
  isActive: boolean
  occupancy?: ChannelOccupancy
}

interface BatchSpec {
  channels: string[]
  messages: AblyMessage[]
}

/** Per-channel outcome of a batch publish. */
export type BatchChannelResult = { channel: string; messageId: string } | { channel: string; error: AblyRestError }

/** A member present on a channel, as Ably's REST presence lists it. */
interface PresenceMember {
  clientId: string
  connectionId: string
}

/** Per-channel outcome of a batch presence request. */
type BatchPresenceResult = { channel: string; members: PresenceMember[] } | { channel: string; error: AblyRestError }

/** Ably's cap on channels per batch request (https://ably.com/docs/api/rest-api#batch-presence). */
export const MAX_BATCH_CHANNELS = 100

export interface RequestOptions {
  signal?: AbortSignal
}

export interface AblyRest {
  /** Ably's clock, in ms since the epoch. */
  time(options?: RequestOptions): Promise<number>
  channelStatus(channel: string, options?: RequestOptions): Promise<ChannelStatus>
  publish(channel: string, messages: AblyMessage[], options?: RequestOptions): Promise<void>
  batchPublish(specs: BatchSpec[], options?: RequestOptions): Promise<BatchChannelResult[]>
  /** The members present on each channel (at most `MAX_BATCH_CHANNELS`), in request order: `GET /presence?channels=…`. */
  batchPresence(channels: readonly string[], options?: RequestOptions): Promise<BatchPresenceResult[]>
}

/** A revocation target: `clientId:<id>` or `revocationKey:<value>` (https://ably.com/docs/auth/revocation). */
export type RevocationTarget = `clientId:${string}` | `revocationKey:${string}`

/** One target's outcome, as Ably answers it. */
interface TokenRevocationResult {
  target: string
  issuedBefore?: number
  appliesAt?: number
  error?: AblyRestError
}

/** Ably's `revokeTokens`, a port of its own: it needs the key itself (Basic auth), and only the revoke function uses it. */
export interface AblyRevoke {
  /**
   * `POST /keys/{keyName}/revokeTokens` for up to `MAX_REVOCATION_TARGETS` targets. `issuedBefore` (ms) is left out
   * unless given, so Ably uses its own clock: always within its window (not in the future, at most an hour old).
   */
  revokeTokens(
    targets: readonly RevocationTarget[],
    options?: RequestOptions & { issuedBefore?: number; allowReauthMargin?: boolean },
  ): Promise<TokenRevocationResult[]>
}

/** Ably takes at most this many targets per `revokeTokens` request. */
const MAX_REVOCATION_TARGETS = 100

export interface AblyRestErrorOptions {
  /** HTTP status, or 0 when no response arrived. */
  statusCode: number
  /** Ably's numeric error code (e.g. 40160), when it sent one. */
  ablyCode?: number | undefined
  /** Seconds to wait before retrying, from `Retry-After`. */
  retryAfterSec?: number | undefined
  cause?: unknown
}

/** A failed Ably request. `retryable` is true for network errors, timeouts, 5xx and 429. */
export class AblyRestError extends Error {
  override readonly name = 'AblyRestError'
  /** Stable, whatever the status: match on it rather than on the class across bundles. */
  readonly code = 'ably_request_failed'
  /** HTTP status, or 0 when no response arrived. */
  readonly statusCode: number
  /** Ably's numeric error code (e.g. 40160), when it sent one. */
  readonly ablyCode: number | undefined
  /** Seconds to wait before retrying, from `Retry-After`. */
  readonly retryAfterSec: number | undefined
  readonly retryable: boolean

  constructor(message: string, { statusCode, ablyCode, retryAfterSec, cause }: AblyRestErrorOptions) {
    super(message, { cause })
    this.statusCode = statusCode
    this.ablyCode = ablyCode
    this.retryAfterSec = retryAfterSec
    this.retryable = statusCode === 0 || statusCode === 429 || statusCode >= 500
  }
}

export interface FetchAblyRestOptions {
  key: AblyKey
  restUrl: string
  /** Each request is aborted after this long. */
  timeoutMs?: number
  fetch?: typeof fetch
}

/** An `AblyRest` (and `AblyRevoke`) over `fetch`, JSON on the wire. */
export function createFetchAblyRest({ key, restUrl, timeoutMs = 5000, fetch: doFetch = fetch }: FetchAblyRestOptions): AblyRest & AblyRevoke {
  const authorization = `Basic ${btoa(`${key.name}:${key.secret}`)}`
  const channelPath = (channel: string) => `/channels/${encodeURIComponent(channel)}`

  /** The response and its text; throws a retryable `AblyRestError` when no response arrived. */
  async function send(method: 'GET' | 'POST', path: string, body: unknown, options: RequestOptions = {}): Promise<{ response: Response; text: string }> {
    const signals = [AbortSignal.timeout(timeoutMs), ...(options.signal ? [options.signal] : [])]
    let response: Response
    try {
      response = await doFetch(`${restUrl}${path}`, {
        method,
        headers: {
          authorization,
          accept: 'application/json',
          'x-ably-version': '6',
          ...(body !== undefined && { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.any(signals),
      })
    } catch (error) {
      throw new AblyRestError(`Ably ${method} ${path.split('?')[0]} failed: no response`, { statusCode: 0, cause: error })
    }
    return { response, text: await response.text().catch(() => '') }
  }

  async function request(method: 'GET' | 'POST', path: string, body: unknown, options?: RequestOptions): Promise<unknown> {
    const { response, text } = await send(method, path, body, options)
    if (!response.ok) throw toRestError(method, path, response, text)
    return parseJson(method, path, text)
  }

  return {
    async time(options) {
      const body = await request('GET', '/time', undefined, options)
      const time = Array.isArray(body) ? body[0] : undefined
      if (typeof time !== 'number') throw new AblyRestError('Ably /time returned an unexpected body', { statusCode: 502 })
      return time
    },
    async channelStatus(channel, options) {
      const body = (await request('GET', channelPath(channel), undefined, options)) as
        | { status?: { isActive?: unknown; occupancy?: { metrics?: ChannelOccupancy } } }
        | undefined
      const status = body?.status
      return {
        isActive: status?.isActive === true,
        ...(status?.occupancy?.metrics && { occupancy: status.occupancy.metrics }),
      }
    },
    async publish(channel, messages, options) {
      await request('POST', `${channelPath(channel)}/messages`, messages.map(toWire), options)
    },
    async batchPublish(specs, options) {
      const body = specs.map((spec) => ({ channels: spec.channels, messages: spec.messages.map(toWire) }))
      const { response, text } = await send('POST', '/messages', body, options)
      if (response.ok) return parseBatchResults(parseJson('POST', '/messages', text))
      // A partial failure is 400 with code 40020 and the per-item results beside the error; each item keeps its own
      // outcome, so the accepted ones are not failed with the rest (https://ably.com/docs/api/rest-api#batch-publish).
      const error = toRestError('POST', '/messages', response, text)
      const partial = error.statusCode === 400 && error.ablyCode === BATCH_PARTIAL_FAILURE ? batchResponseOf(text) : undefined
      if (partial === undefined) throw error
      return parseBatchResults(partial)
    },
    async revokeTokens(targets, { issuedBefore, allowReauthMargin, ...options } = {}) {
      if (targets.length === 0 || targets.length > MAX_REVOCATION_TARGETS) throw new TypeError(`revokeTokens takes 1 to ${MAX_REVOCATION_TARGETS} targets`)
      const path = `/keys/${encodeURIComponent(key.name)}/revokeTokens`
      const body = { targets, ...(issuedBefore !== undefined && { issuedBefore }), ...(allowReauthMargin !== undefined && { allowReauthMargin }) }
      const answer = (await request('POST', path, body, options)) as { results?: unknown } | unknown[] | undefined
      const results = Array.isArray(answer) ? answer : answer?.results
      if (!Array.isArray(results)) throw new AblyRestError('Ably revokeTokens returned an unexpected body', { statusCode: 502 })
      return results.map(
        (result: { target?: unknown; issuedBefore?: unknown; appliesAt?: unknown; error?: { code?: unknown; statusCode?: unknown; message?: unknown } }) => {
          const target = String(result.target)
          if (result.error) {
            const ablyCode = typeof result.error.code === 'number' ? result.error.code : undefined
            return { target, error: new AblyRestError(String(result.error.message), { statusCode: itemStatus(result.error.statusCode, ablyCode), ablyCode }) }
          }
          return {
            target,
            ...(typeof result.issuedBefore === 'number' && { issuedBefore: result.issuedBefore }),
            ...(typeof result.appliesAt === 'number' && { appliesAt: result.appliesAt }),
          }
        },
      )
    },
    async batchPresence(channels, options) {
      if (channels.length === 0) return []
      if (channels.length > MAX_BATCH_CHANNELS) throw new TypeError(`batchPresence: at most ${MAX_BATCH_CHANNELS} channels per request, got ${channels.length}`)
      const path = `/presence?channels=${channels.map(encodeURIComponent).join(',')}`
      const { response, text } = await send('GET', path, undefined, options)
      if (response.ok) return parsePresenceResults(parseJson('GET', '/presence', text))
      // As for batch publish: a partial failure is 400 with 40020 and every channel's own outcome beside it.
      const error = toRestError('GET', path, response, text)
      const partial = error.statusCode === 400 && error.ablyCode === BATCH_PARTIAL_FAILURE ? batchResponseOf(text) : undefined
      if (partial === undefined) throw error
      return parsePresenceResults(partial)
    },
  }
}

type WirePresenceResult = { channel?: unknown; presence?: unknown; error?: WireItemError }

/**
 * One result per channel from `{ successCount, failureCount, results: [...] }` (protocol 2 and later) or a bare list
 * of `{ channel, presence }` (the older shape, and `batchResponse` of a 40020 answer).
 */
function parsePresenceResults(body: unknown): BatchPresenceResult[] {
  const results = Array.isArray(body) ? body : (body as { results?: unknown } | undefined)?.results
  if (!Array.isArray(results)) throw new AblyRestError('Ably batch presence returned an unexpected body', { statusCode: 502 })
  return results.map((result: WirePresenceResult) => {
    const channel = String(result.channel)
    if (result.error) return { channel, error: itemError(result.error) }
    const members = Array.isArray(result.presence) ? result.presence : []
    return {
      channel,
      members: members.map((member: { clientId?: unknown; connectionId?: unknown }) => ({
        clientId: String(member.clientId),
        connectionId: String(member.connectionId),
      })),
    }
  })
}

/** Ably's code for "Batched response includes errors". */
const BATCH_PARTIAL_FAILURE = 40020

function parseJson(method: string, path: string, text: string): unknown {
  try {
    return text === '' ? undefined : JSON.parse(text)
  } catch (error) {
    throw new AblyRestError(`Ably ${method} ${path} returned invalid JSON`, { statusCode: 502, cause: error })
  }
}

/** The per-item results of a 40020 answer: `batchResponse` beside the error (or, as some docs show it, inside). */
function batchResponseOf(text: string): unknown[] | undefined {
  try {
    const body = JSON.parse(text) as { batchResponse?: unknown; error?: { batchResponse?: unknown } }
    const list = body.batchResponse ?? body.error?.batchResponse
    return Array.isArray(list) ? list : undefined
  } catch {
    return undefined
  }
}

// Objects travel as JSON text with `encoding: "json"`, exactly as ably-js sends them, so subscribers get objects back.
function toWire(message: AblyMessage) {
  const { data, ...rest } = message
  return typeof data === 'string' || data === undefined ? message : { ...rest, data: JSON.stringify(data), encoding: 'json' }
}

function toRestError(method: string, path: string, response: Response, text: string): AblyRestError {
  let ablyCode = Number(response.headers.get('x-ably-errorcode')) || undefined
  let message = response.headers.get('x-ably-errormessage') ?? response.statusText
  try {
    const error = (JSON.parse(text) as { error?: { code?: unknown; message?: unknown } }).error
    if (typeof error?.code === 'number') ablyCode = error.code
    if (typeof error?.message === 'string') message = error.message
  } catch {
    // Not JSON (a proxy's HTML error page, say): the headers and status are all there is.
  }
  const retryAfter = Number(response.headers.get('retry-after'))
  return new AblyRestError(`Ably ${method} ${path.split('?')[0]} failed with ${response.status}: ${message}`.slice(0, 300), {
    statusCode: response.status,
    ablyCode,
    retryAfterSec: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
  })
}

type WireBatchResult = { channel?: unknown; messageId?: unknown; error?: WireItemError }

/**
 * One result per channel, in request order, from a list of `BatchResult`s (`{ results: [...] }` per spec) or of
 * bare per-channel results (the older shape). Each failed item's status decides whether it may be retried.
 */
function parseBatchResults(body: unknown): BatchChannelResult[] {
  const specs = Array.isArray(body) ? body : [body]
  return specs.flatMap((spec: { results?: unknown; channel?: unknown } | undefined) => {
    const results = spec?.results ?? (spec?.channel === undefined ? undefined : [spec])
    if (!Array.isArray(results)) throw new AblyRestError('Ably batch publish returned an unexpected body', { statusCode: 502 })
    return results.map((result: WireBatchResult) => {
      const channel = String(result.channel)
      if (!result.error) return { channel, messageId: String(result.messageId) }
      return { channel, error: itemError(result.error) }
    })
  })
}

type WireItemError = { code?: unknown; statusCode?: unknown; message?: unknown }

/** A failed item of a batch answer; its status decides whether it may be retried. */
function itemError({ code, statusCode, message }: WireItemError): AblyRestError {
  const ablyCode = typeof code === 'number' ? code : undefined
  return new AblyRestError(String(message), { statusCode: itemStatus(statusCode, ablyCode), ablyCode })
}

/** An item's HTTP status: its own, else the one Ably's code starts with (42910 is a 429), else 500. */
function itemStatus(statusCode: unknown, ablyCode: number | undefined): number {
  if (typeof statusCode === 'number') return statusCode
  return ablyCode !== undefined && ablyCode >= 40000 && ablyCode < 60000 ? Math.floor(ablyCode / 100) : 500
}
