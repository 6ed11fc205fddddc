/** The publish gateway's own configuration (Node only): the message store, the rate limit, batches and retries. */
import { checkEnv } from '../config/check.ts'
import { addProblem, DEADLINE_MS, envValue, parseInteger, type ConfigProblems, type Env } from '../config/index.ts'
import { mongoUriProblem } from '../store/mongodb.ts'

type StoreConfig =
  | { readonly kind: 'memory' }
  | { readonly kind: 'mongodb'; readonly uri: string; readonly dbName: string; readonly timeoutMs: number; readonly maxPoolSize: number }

export interface RetryPolicy {
  /** Publish attempts per delivery round (a request, or one sweep of the outbox). */
  readonly maxAttempts: number
  readonly baseDelayMs: number
  readonly maxDelayMs: number
}

export interface GatewayConfig {
  readonly store: StoreConfig
  /** Every store call fails with 503 `store_unavailable` after this long. */
  readonly storeTimeoutMs: number
  /** Messages per user per window; `undefined` when switched off. */
  readonly rateLimit: { readonly limit: number; readonly windowSec: number } | undefined
  /** Messages in one `{ messages: [...] }` request. */
  readonly maxBatch: number
  /** The request body cap; a larger body gets 413 before it is read. */
  readonly maxBodyBytes: number
  /** One message's size as Ably counts it (name + data); a larger one gets 413. Also the cap on one Ably request. */
  readonly maxMessageBytes: number
  /** How long a publish request may spend delivering before it answers 202 `queued`. */
  readonly deliveryBudgetMs: number
  readonly retry: RetryPolicy
  readonly outbox: {
    /** How long a sweeper holds the messages it claimed. */
    readonly leaseMs: number
    readonly batchSize: number
    /** How long one sweep may run (a Netlify scheduled function has 30 s). */
    readonly runBudgetMs: number
    /** A message still pending after this long is marked failed. */
    readonly maxAgeSec: number
    /** First and largest wait before a sweeper retries a message that failed a whole round. */
    readonly baseDelayMs: number
    readonly maxDelayMs: number
  }
  readonly history: {
    readonly defaultLimit: number
    readonly maxLimit: number
    /** History reads per user per window; `undefined` when switched off. */
    readonly rateLimit: { readonly limit: number; readonly windowSec: number } | undefined
  }
  /** Delivered and failed messages are removed this long after they settled; pending ones never are. */
  readonly retentionSec: number
}

/**
 * The gateway's settings beyond the store, which every gateway function reads: `publish` is `PUBLISH_*`, `outbox` is
 * `OUTBOX_MAX_AGE_SEC`, `history` is `HISTORY_RATE_*`. A function that does not read a setting keeps its default and never fails over it, so a typo
 * in `PUBLISH_MAX_BATCH` cannot stop the outbox sweeper.
 */
export type GatewaySetting = 'publish' | 'outbox' | 'history'

export const ALL_GATEWAY_SETTINGS: readonly GatewaySetting[] = ['publish', 'outbox', 'history']

export interface GatewayConfigOptions {
  /** Refuse the embedded store (a serverless instance forgets it): MongoDB, or an explicit `MESSAGE_STORE=memory`. */
  requireDurableStore?: boolean
  settings?: readonly GatewaySetting[]
}

const MONGODB_URI = /^mongodb(\+srv)?:\/\/\S+$/

/** How much later than `MONGODB_TIMEOUT_MS` a store call is cut off. */
const STORE_CALL_SLACK_MS = 500

/**
 * A publish may make three store calls (first-use init, rate limit, key lookup) before it decides whether there is
 * time left to store anything; each may take the timeout plus the slack, and all must end within the 8 s deadline.
 */
const MAX_MONGODB_TIMEOUT_MS = 2000
const STORE_CALLS_WHY = ` (a publish makes up to three store calls of up to ${STORE_CALL_SLACK_MS} ms more than this before storing anything, and must answer within its ${DEADLINE_MS / 1000} s deadline)`

/** Parses the gateway's variables, or throws one `ConfigError` naming every bad one and how to fix it. */
export function parseGatewayConfig(env: Env, options: GatewayConfigOptions = {}): GatewayConfig {
  return checkEnv((problems) => readGatewayConfig(env, problems, options))
}

/**
 * `parseGatewayConfig`'s reader, for a pass that checks other parts too. It always returns a config (bad values fall
 * back to their defaults), so only `problems` says whether it may be used.
 */
export function readGatewayConfig(
  env: Env,
  problems: ConfigProblems,
  { requireDurableStore = false, settings = ALL_GATEWAY_SETTINGS }: GatewayConfigOptions = {},
): GatewayConfig {
  const value = (name: string) => envValue(env, name)
  const integer = (name: string, fallback: number, min: number, max: number, unit: string, why = '') =>
    parseInteger(name, value(name), fallback, min, max, problems, { unit, why })
  const ifRead = (setting: GatewaySetting, name: string, fallback: number, min: number, max: number, unit: string) =>
    settings.includes(setting) ? integer(name, fallback, min, max, unit) : fallback

  const uri = value('MONGODB_URI')
  const kind = value('MESSAGE_STORE') ?? (uri === undefined ? undefined : 'mongodb')
  let store: StoreConfig = { kind: 'memory' }
  if (kind === 'mongodb') {
    if (uri === undefined)
      addProblem(
        problems,
        'MONGODB_URI',
        'is not set, but MESSAGE_STORE=mongodb needs it, e.g. mongodb://localhost:27017 or your Atlas "mongodb+srv://…" string.',
      )
    else if (!MONGODB_URI.test(uri))
      addProblem(
        problems,
        'MONGODB_URI',
        'must start with mongodb:// or mongodb+srv:// (copy the connection string from Atlas or use mongodb://localhost:27017).',
      )
    else {
      const invalid = mongoUriProblem(uri)
      if (invalid !== undefined)
        addProblem(
          problems,
          'MONGODB_URI',
          `is not a connection string the MongoDB driver accepts: ${invalid}. Copy it again from Atlas, or use mongodb://localhost:27017.`,
        )
      const dbName = value('MONGODB_DB') ?? 'ably_gateway'
      if (!/^[A-Za-z0-9_-]{1,63}$/.test(dbName)) addProblem(problems, 'MONGODB_DB', 'must be 1–63 letters, digits, "_" or "-".')
      store = {
        kind: 'mongodb',
        uri,
        dbName,
        timeoutMs: integer('MONGODB_TIMEOUT_MS', 2000, 200, MAX_MONGODB_TIMEOUT_MS, 'milliseconds', STORE_CALLS_WHY),
        maxPoolSize: integer('MONGODB_POOL_SIZE', 5, 1, 100, 'connections'),
      }
    }
  } else if (kind === undefined && requireDurableStore) {
    addProblem(
      problems,
      'MONGODB_URI',
      'is not set. Accepted messages must outlive this function instance: set MONGODB_URI (e.g. an Atlas "mongodb+srv://…" string), or MESSAGE_STORE=memory to accept losing them.',
    )
  } else if (kind !== undefined && kind !== 'memory') {
    addProblem(problems, 'MESSAGE_STORE', `must be "mongodb" or "memory"; got "${kind.slice(0, 20)}".`)
  } else if (kind === 'memory' && requireDurableStore && value('NETLIFY_DEV') === 'true') {
    // `netlify dev` evaluates the function module afresh for every request, so an in-memory store would forget
    // idempotency keys between a request and its retry, and publish the retry again.
    addProblem(
      problems,
      'MESSAGE_STORE',
      'is "memory", which does not work under `netlify dev`: it loads the function afresh for every request, so retries would publish twice. Use `npm start` for the in-memory store, or set MONGODB_URI.',
    )
  }

  const limit = ifRead('publish', 'PUBLISH_RATE_LIMIT', 60, 0, 1_000_000, 'messages')
  const windowSec = ifRead('publish', 'PUBLISH_RATE_WINDOW_SEC', 60, 1, 86_400, 'seconds')
  const maxBatch = ifRead('publish', 'PUBLISH_MAX_BATCH', 50, 1, 100, 'messages')
  const deliveryBudgetMs = ifRead('publish', 'PUBLISH_DELIVERY_BUDGET_MS', 3000, 100, 6000, 'milliseconds')
  const maxAgeSec = ifRead('outbox', 'OUTBOX_MAX_AGE_SEC', 86_400, 60, 30 * 86_400, 'seconds')
  const historyLimit = ifRead('history', 'HISTORY_RATE_LIMIT', 120, 0, 1_000_000, 'reads')
  const historyWindowSec = ifRead('history', 'HISTORY_RATE_WINDOW_SEC', 60, 1, 86_400, 'seconds')
  // Read by every function, since each one that opens the store sets the retention index: they must agree.
  const retentionSec = integer('MESSAGE_RETENTION_SEC', 7 * 86_400, 3600, 365 * 86_400, 'seconds', ' (an idempotency key is remembered as long as its message)')

  return {
    store,
    storeTimeoutMs: store.kind === 'mongodb' ? store.timeoutMs + STORE_CALL_SLACK_MS : 2000,
    rateLimit: limit === 0 ? undefined : { limit, windowSec },
    maxBatch,
    maxBodyBytes: 512 * 1024,
    maxMessageBytes: 64 * 1024,
    deliveryBudgetMs,
    retry: { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1000 },
    outbox: { leaseMs: 30_000, batchSize: 100, runBudgetMs: 20_000, maxAgeSec, baseDelayMs: 30_000, maxDelayMs: 5 * 60_000 },
    history: { defaultLimit: 50, maxLimit: 100, rateLimit: historyLimit === 0 ? undefined : { limit: historyLimit, windowSec: historyWindowSec } },
    retentionSec,
  }
}
