/**
 * `POST /api/ably/publish` and `GET /api/ably/history`, as a route factory for `createApp`'s `deps.routes`: each
 * parses the request, calls one gateway use case, and maps its result to the wire contract.
 */
import type { Context } from 'hono'
import { Hono } from 'hono/tiny'
import type { AppEnv, RouteFactory } from '../app-env.ts'
import type { Caller as VerifiedCaller } from '../auth/caller.ts'
import { HistoryQuery, IDEMPOTENCY_KEY, type BatchPublishResponse, type PublishResponse } from '../contract/index.ts'
import { AppError } from '../errors/index.ts'
import { methodNotAllowed } from '../middleware/allow-methods/index.ts'
import { authenticate } from '../middleware/authenticate/index.ts'
import { bodyLimit } from '../middleware/body-limit/index.ts'
import { userPrincipal } from '../policy/index.ts'
import { historyLimitError } from './history.ts'
import { onlyResult, type Accepted, type Caller, type Gateway } from './index.ts'
import { parseEnvelope } from './prepare.ts'

/** The gateway's routes. */
export function gatewayRoutes(gateway: Gateway): RouteFactory {
  return ({ verify, now, config: appConfig }) => {
    const { config } = gateway
    const { policy } = gateway
    const callerOf = (c: Context<AppEnv>): Caller => userPrincipal(currentCaller(c), appConfig.adminRoles)

    return new Hono<AppEnv>()
      .post('/publish', bodyLimit(config.maxBodyBytes), authenticate({ verify }), async (c) => {
        const deadline = now() + appConfig.deadlineMs - 1000
        if (mediaType(c) !== 'application/json') throw new AppError('unsupported_media_type')
        const requestKey = idempotencyKeyHeader(c.req.header('idempotency-key'))
        const { items, batch } = parseEnvelope(await readJson(c), config.maxBatch)
        c.header('Cache-Control', 'no-store')
        const results = await gateway.accept(items, { caller: callerOf(c), requestKey, batch, deadline, onRateLimit: (headers) => setHeaders(c, headers) })
        // The body first: a single message another request is delivering right now is a 409, not a replay.
        const body = batch ? batchBody(results) : singleBody(onlyResult(results))
        if (results.some((result) => result.replayed)) c.header('Idempotent-Replayed', 'true')
        return c.json(body, results.some((result) => result.status === 'queued' || result.status === 'in_progress') ? 202 : 200)
      })
      .all('/publish', methodNotAllowed(['POST']))
      .get('/history', authenticate({ verify }), async (c) => {
        const query = HistoryQuery.safeParse(c.req.query())
        if (!query.success)
          throw query.error.issues.some((issue) => issue.path[0] === 'channelName') ? policy.invalidChannel() : historyLimitError(config.history.maxLimit)
        c.header('Cache-Control', 'no-store')
        return c.json(await gateway.history({ caller: callerOf(c), ...query.data, onRateLimit: (headers) => setHeaders(c, headers) }))
      })
      .all('/history', methodNotAllowed(['GET']))
  }
}

function setHeaders(c: Context<AppEnv>, headers: Record<string, string>) {
  for (const [name, value] of Object.entries(headers)) c.header(name, value)
}

function currentCaller(c: Context<AppEnv>): VerifiedCaller {
  const caller = c.get('caller')
  if (!caller) throw new AppError('invalid_token', { reason: 'no caller' })
  return caller
}

/** The request's media type, lower-cased, without parameters. */
export function mediaType(c: Context<AppEnv>): string | undefined {
  return c.req.header('content-type')?.split(';')[0]?.trim().toLowerCase()
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** The body as strict JSON, or `invalid_json`. */
export async function readJson(c: Context<AppEnv>): Promise<unknown> {
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
  if (!IDEMPOTENCY_KEY.test(key))
    throw new AppError('invalid_request', { message: 'The Idempotency-Key header must be 1–255 printable ASCII characters without spaces.' })
  return key
}

function singleBody({ status, channelName, messageId, timestamp }: ReturnType<typeof onlyResult>): PublishResponse {
  // Another request is delivering this very message: the caller should retry to learn how it ended.
  if (status === 'in_progress') throw new AppError('idempotency_conflict', { headers: { 'Retry-After': '1' } })
  return { success: true, status, channelName, messageId, timestamp }
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
