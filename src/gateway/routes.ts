/** `POST /api/ably/publish` and `GET /api/ably/history`, as a route factory for `createApp`'s `deps.routes`. */
import type { Context } from 'hono'
import { Hono } from 'hono/tiny'
import type { RouteFactory } from '../app.ts'
import type { AppEnv } from '../app-env.ts'
import type { AppUser } from '../auth/app-token.ts'
import { parseChannel } from '../channels/index.ts'
import { AppError } from '../errors/index.ts'
import { methodNotAllowed } from '../middleware/allow-methods/index.ts'
import { authenticate } from '../middleware/authenticate/index.ts'
import { bodyLimit } from '../middleware/body-limit/index.ts'
import type { MessageDoc } from '../store/index.ts'
import { storeCall, type Gateway } from './index.ts'
import { IDEMPOTENCY_KEY, parseEnvelope, prepareMessages } from './prepare.ts'
import type { Accepted } from './publisher.ts'

/** What `POST /api/ably/publish` answers for one message: 200 when published, 202 when queued. */
export interface PublishResponse {
  success: true
  status: 'published' | 'queued'
  channelName: string
  messageId: string
  timestamp: string
}

/** What it answers for `{ messages: [...] }`: 200 when all were published, 202 when any is queued. */
export interface BatchPublishResponse {
  success: boolean
  results: { channelName: string; messageId: string; status: 'published' | 'queued' | 'failed'; timestamp: string; code?: 'publish_rejected' }[]
}

/** A stored message, shaped like an Ably message so a client can merge it with realtime ones and dedupe by `id`. */
export interface HistoryItem {
  id: string
  name: string
  data: Record<string, unknown>
  /** Acceptance time, ms since the epoch. */
  timestamp: number
  status: 'pending' | 'published'
}

export interface HistoryResponse {
  channelName: string
  messages: HistoryItem[]
  /** Pass as `before` for the next (older) page; null on the last page. */
  next: string | null
}

/** A `next` value: time, then index and id (or, stored before the index was added, the id alone). */
const CURSOR = /^\d{15}(:\d{4})?(:[A-Za-z0-9_-]{1,64})?$/

/** The gateway's routes. */
export function gatewayRoutes(gateway: Gateway): RouteFactory {
  return (services) => {
    const { verify, now } = services
    const { config } = gateway
    const admins = new Set(services.config.adminRoles)
    const isAdmin = (user: AppUser) => user.role !== undefined && admins.has(user.role)

    return new Hono<AppEnv>()
      .post('/publish', bodyLimit(config.maxBodyBytes), authenticate({ verify }), async (c) => {
        const startedAt = now()
        const user = currentUser(c)
        const mediaType = c.req.header('content-type')?.split(';')[0]?.trim().toLowerCase()
        if (mediaType !== 'application/json') throw new AppError('unsupported_media_type')
        const requestKey = idempotencyKeyHeader(c.req.header('idempotency-key'))
        const { items, batch } = parseEnvelope(await readJson(c), config.maxBatch)
        const prepared = await prepareMessages(items, batch, {
          publisher: { kind: 'user', userId: user.userId, admin: isAdmin(user) },
          requestKey,
          maxMessageBytes: config.maxMessageBytes,
          newKey: () => crypto.randomUUID(),
        })

        c.header('Cache-Control', 'no-store')
        const results = await storeCall(async () => {
          await gateway.ready()
          if (gateway.rateLimit) for (const [name, value] of Object.entries(await gateway.rateLimit(user.userId, prepared.length))) c.header(name, value)
          return gateway.publisher.publish(prepared, {
            // Random, not the request id: a client may send its own X-Request-Id, and two requests must never share a lease.
            owner: `req:${crypto.randomUUID()}`,
            publisherId: user.userId,
            deadlineAt: startedAt + services.config.deadlineMs - 1000,
          })
        })
        if (results.some((result) => result.replayed)) c.header('Idempotent-Replayed', 'true')
        return batch ? c.json(batchBody(results), results.every((result) => result.status === 'published' || result.status === 'failed') ? 200 : 202) : single(c, results)
      })
      .all('/publish', methodNotAllowed(['POST']))
      .get('/history', authenticate({ verify }), async (c) => {
        const user = currentUser(c)
        const channelName = c.req.query('channelName')
        const channel = parseChannel(channelName)
        if (!channel || channelName === undefined) throw new AppError('invalid_channel')
        if (channel.userId !== user.userId && !isAdmin(user)) throw new AppError('forbidden', { message: 'You can only read the history of your own channels.' })
        const limit = historyLimit(c.req.query('limit'), config.history)
        const before = historyCursor(c.req.query('before'))
        const docs = await storeCall(async () => {
          await gateway.ready()
          return gateway.store.history({ channelName, limit: limit + 1, ...(before !== undefined && { before }) })
        })
        const page = docs.slice(0, limit)
        const body: HistoryResponse = { channelName, messages: page.map(historyItem), next: docs.length > limit ? (page.at(-1)?.seq ?? null) : null }
        c.header('Cache-Control', 'no-store')
        return c.json(body)
      })
      .all('/history', methodNotAllowed(['GET']))
  }
}

function currentUser(c: Context<AppEnv>): AppUser {
  const user = c.get('user')
  if (!user) throw new AppError('invalid_token', { reason: 'no user' })
  return user
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

async function readJson(c: Context<AppEnv>): Promise<unknown> {
  const bytes = await c.req.arrayBuffer()
  try {
    // A BOM is kept (so it fails to parse) and invalid UTF-8 throws, rather than being silently repaired.
    return JSON.parse(strictUtf8.decode(bytes))
  } catch (error) {
    // Truncated, a BOM, NaN, bad UTF-8, or nesting deep enough to exhaust the parser: all the same to the caller.
    throw new AppError('invalid_json', { cause: error })
  }
}

/** The `Idempotency-Key` header, bare or as a quoted structured-field string. */
function idempotencyKeyHeader(header: string | undefined): string | undefined {
  if (header === undefined) return undefined
  const key = /^"(.*)"$/.exec(header)?.[1] ?? header
  if (!IDEMPOTENCY_KEY.test(key)) throw new AppError('invalid_request', { message: 'The Idempotency-Key header must be 1–255 printable ASCII characters without spaces.' })
  return key
}

function single(c: Context<AppEnv>, [result]: Accepted[]): Response {
  if (!result) throw new AppError('internal_error', { reason: 'no result' })
  if (result.status === 'failed') throw new AppError('publish_rejected', { details: { messageId: result.messageId } })
  if (result.status === 'in_progress') throw new AppError('idempotency_conflict', { headers: { 'Retry-After': '1' } })
  const body: PublishResponse = { success: true, status: result.status, channelName: result.channelName, messageId: result.messageId, timestamp: result.timestamp }
  return c.json(body, result.status === 'published' ? 200 : 202)
}

function batchBody(results: Accepted[]): BatchPublishResponse {
  return {
    success: results.every((result) => result.status !== 'failed'),
    results: results.map(({ channelName, messageId, status, timestamp }) => ({
      channelName,
      messageId,
      // Another request is delivering it: for this caller it is stored and on its way.
      status: status === 'in_progress' ? 'queued' : status,
      timestamp,
      ...(status === 'failed' && { code: 'publish_rejected' as const }),
    })),
  }
}

function historyLimit(raw: string | undefined, { defaultLimit, maxLimit }: { defaultLimit: number; maxLimit: number }): number {
  if (raw === undefined) return defaultLimit
  if (!/^\d{1,3}$/.test(raw) || Number(raw) < 1 || Number(raw) > maxLimit) throw new AppError('invalid_request', { message: `limit must be a whole number from 1 to ${maxLimit}.` })
  return Number(raw)
}

/** `before`: a `next` value from an earlier page, or an ISO 8601 time (messages accepted strictly before it). */
function historyCursor(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined
  if (CURSOR.test(raw)) return raw
  const ms = /^\d{4}-\d{2}-\d{2}T/.test(raw) ? Date.parse(raw) : Number.NaN
  if (!Number.isFinite(ms) || ms < 0) throw new AppError('invalid_request', { message: 'before must be the "next" value of an earlier page or an ISO 8601 time.' })
  return String(ms).padStart(15, '0')
}

function historyItem(doc: MessageDoc): HistoryItem {
  return { id: doc._id, name: doc.eventName, data: doc.data, timestamp: doc.createdAt.getTime(), status: doc.status === 'published' ? 'published' : 'pending' }
}

