/**
 * The wire contract: every request and response body of `/api/ably/*`, and the error body, as zod schemas with
 * their TypeScript types inferred from them (each name is both). Node code parses with the schemas; edge and
 * browser code import the types only (`import type`), so zod stays out of their bundles.
 */
import { z } from 'zod'
import { errorCodes } from '../errors/index.ts'

const isoTime = z.iso.datetime()

/** Idempotency keys: 1–255 printable ASCII characters, no spaces (a UUID is typical). */
export const IDEMPOTENCY_KEY = /^[\x21-\x7E]{1,255}$/

/** Every error: `{ error, code, requestId, details? }`. Switch on `code`; `details` says what would have been valid. */
export const ErrorBody = z.object({
  error: z.string(),
  code: z.enum(errorCodes),
  requestId: z.string(),
  details: z.unknown().optional(),
})
export type ErrorBody = z.infer<typeof ErrorBody>

/**
 * `POST`/`GET /api/ably/token` answers this (the request has no body: the app JWT travels in `Authorization`).
 * `issued`/`expires` (ms) make it a TokenDetails, so ably-js `authUrl` can use it as is.
 */
export const TokenResponse = z.object({
  token: z.string().min(1),
  /** Seconds. */
  expiresIn: z.number().int().positive(),
  expiresAt: isoTime,
  issued: z.number().int(),
  expires: z.number().int(),
  userId: z.string(),
  clientId: z.string(),
  /** Channel name (or pattern) to the operations allowed on it. */
  capability: z.record(z.string(), z.array(z.string())),
  timestamp: isoTime,
})
export type TokenResponse = z.infer<typeof TokenResponse>

/**
 * The token route's answer when the caller's capability would make an Ably JWT too large for a header (about 8 KB):
 * a TokenRequest signed with the key, which ably-js redeems at Ably itself (from `authCallback` or `authUrl`).
 */
export const TokenRequestResponse = z.object({
  tokenRequest: z.object({
    keyName: z.string(),
    ttl: z.number().int().positive(),
    capability: z.string(),
    clientId: z.string(),
    timestamp: z.number().int(),
    nonce: z.string().min(16),
    mac: z.string(),
  }),
  expiresIn: z.number().int().positive(),
  expiresAt: isoTime,
  userId: z.string(),
  clientId: z.string(),
  capability: z.record(z.string(), z.array(z.string())),
  timestamp: isoTime,
})
export type TokenRequestResponse = z.infer<typeof TokenRequestResponse>

/** `POST /api/ably/revoke` takes no body (this session), `{ scope: 'user' }` (every session), or, for admins, `{ userId }`. */
export const RevokeRequestBody = z.strictObject({
  scope: z.enum(['session', 'user']).optional(),
  userId: z.string().optional(),
})
export type RevokeRequestBody = z.infer<typeof RevokeRequestBody>

/** What a completed revocation answers; anything short of complete is 503 `revocation_unavailable`. */
export const RevokeResponse = z.object({
  revoked: z.literal(true),
  scope: z.enum(['session', 'user']),
  userId: z.string(),
  revokedAt: isoTime,
})
export type RevokeResponse = z.infer<typeof RevokeResponse>

/** `GET /api/ably/stats` takes an optional `channelName` (a token is then required). */
export const StatsQuery = z.object({ channelName: z.string().optional() })
export type StatsQuery = z.infer<typeof StatsQuery>

export const HealthStatus = z.enum(['healthy', 'degraded', 'unhealthy'])
export type HealthStatus = z.infer<typeof HealthStatus>

export const CheckResult = z.object({
  status: z.enum(['ok', 'slow', 'failed']),
  latencyMs: z.number(),
  /** Ably's clock minus ours, corrected for half the round trip (only on the reachability check). */
  clockSkewMs: z.number().optional(),
  /** A short, secret-free description of what went wrong. */
  error: z.string().optional(),
})
export type CheckResult = z.infer<typeof CheckResult>

/** Occupancy metrics of a channel, as Ably reports them. */
export const ChannelOccupancy = z.object({
  connections: z.number(),
  presenceConnections: z.number(),
  presenceMembers: z.number(),
  presenceSubscribers: z.number(),
  publishers: z.number(),
  subscribers: z.number(),
})
export type ChannelOccupancy = z.infer<typeof ChannelOccupancy>

/** What `GET /api/ably/stats` answers: 200 when healthy or degraded, 503 when unhealthy. */
export const StatsResponse = z.object({
  status: HealthStatus,
  server: z.object({ initialized: z.boolean(), connectionState: z.enum(['connected', 'disconnected']), uptime: z.number() }),
  channels: z.record(z.string(), z.object({ name: z.string(), state: z.enum(['active', 'inactive', 'unknown']), occupancy: ChannelOccupancy.optional() })),
  checks: z.object({ ablyTime: CheckResult, channelStatus: CheckResult.optional() }),
  timestamp: isoTime,
  responseTime: z.number(),
})
export type StatsResponse = z.infer<typeof StatsResponse>

/** What `GET /api/ably/presence?userIds=…` answers (admin roles only): each user, in the order asked. */
export const PresenceResponse = z.object({
  users: z.array(z.object({ userId: z.string(), online: z.boolean(), connections: z.number().int().nonnegative() })),
  timestamp: isoTime,
})
export type PresenceResponse = z.infer<typeof PresenceResponse>

/** A check of `GET /api/ably/health`, as admin roles see it. */
export const HealthCheck = CheckResult.omit({ clockSkewMs: true })
export type HealthCheck = z.infer<typeof HealthCheck>

/** The outbox's figures in `GET /api/ably/health`. */
export const OutboxCheck = z.object({
  status: z.enum(['ok', 'backlog', 'stalled', 'unknown']),
  pending: z.number().int().nonnegative().nullable(),
  /** Seconds since the oldest pending message was accepted; null when none is pending (or the store did not answer). */
  oldestPendingAgeSec: z.number().nonnegative().nullable(),
  failedLast24h: z.number().int().nonnegative().nullable(),
})
export type OutboxCheck = z.infer<typeof OutboxCheck>

/**
 * What `GET /api/ably/health` answers: 200 when healthy or degraded, 503 when unhealthy. Anonymous callers and users
 * without an admin role get `status` and `timestamp` only; admin roles get every check with its figures.
 */
export const HealthResponse = z.object({
  status: HealthStatus,
  timestamp: isoTime,
  checks: z.object({ store: HealthCheck, outbox: OutboxCheck, ably: HealthCheck }).optional(),
  /** Why the status is not `healthy`, one short phrase per reason (admin roles only). */
  reasons: z.array(z.string()).optional(),
  responseTime: z.number().optional(),
})
export type HealthResponse = z.infer<typeof HealthResponse>

/** One message of `POST /api/ably/publish`. `id` is the caller's idempotency key for this message. */
export const PublishMessage = z.strictObject({
  channelName: z.string(),
  eventName: z.string(),
  data: z.record(z.string(), z.unknown()),
  id: z.string().regex(IDEMPOTENCY_KEY).optional(),
})
export type PublishMessage = z.infer<typeof PublishMessage>

/** Several messages in one request, all checked before any is stored. */
export const PublishBatch = z.strictObject({ messages: z.array(PublishMessage).min(1) })
export type PublishBatch = z.infer<typeof PublishBatch>

/** The body of `POST /api/ably/publish` (with an optional `Idempotency-Key` header). */
export const PublishRequest = z.union([PublishMessage, PublishBatch])
export type PublishRequest = z.infer<typeof PublishRequest>

/** What it answers for one message: 200 when published, 202 when queued. */
export const PublishResponse = z.object({
  success: z.literal(true),
  status: z.enum(['published', 'queued']),
  channelName: z.string(),
  messageId: z.string(),
  /** When the message was first accepted. */
  timestamp: isoTime,
})
export type PublishResponse = z.infer<typeof PublishResponse>

/** What it answers for `{ messages: [...] }`: 200 when none is queued, 202 when any is. */
export const BatchPublishResponse = z.object({
  success: z.boolean(),
  results: z.array(
    z.object({
      channelName: z.string(),
      messageId: z.string(),
      status: z.enum(['published', 'queued', 'failed']),
      timestamp: isoTime,
      code: z.literal('publish_rejected').optional(),
    }),
  ),
})
export type BatchPublishResponse = z.infer<typeof BatchPublishResponse>

/** The largest history page. */
export const HISTORY_MAX_LIMIT = 100

/** `GET /api/ably/history`'s query. `before` is a `next` value of an earlier page, or an ISO 8601 time. */
export const HistoryQuery = z.object({
  channelName: z.string(),
  limit: z
    .string()
    .regex(/^\d{1,3}$/)
    .transform(Number)
    .pipe(z.number().int().min(1).max(HISTORY_MAX_LIMIT))
    .optional(),
  before: z.string().optional(),
})
export type HistoryQuery = z.infer<typeof HistoryQuery>

/** A stored message, shaped like an Ably message so a client can merge it with realtime ones and dedupe by `id`. */
export const HistoryItem = z.object({
  id: z.string(),
  name: z.string(),
  data: z.record(z.string(), z.unknown()),
  /** Acceptance time, ms since the epoch. */
  timestamp: z.number(),
  status: z.enum(['pending', 'published']),
})
export type HistoryItem = z.infer<typeof HistoryItem>

/** One page, newest first. */
export const HistoryResponse = z.object({
  channelName: z.string(),
  messages: z.array(HistoryItem),
  /** Pass as `before` for the next (older) page; null on the last page. */
  next: z.string().nullable(),
})
export type HistoryResponse = z.infer<typeof HistoryResponse>
