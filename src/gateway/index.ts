/**
 * The publish gateway (Node only): `POST /api/ably/publish` and `GET /api/ably/history`, mounted into the one app
 * through `deps.routes`, so edge bundles never import it. `createGateway` wires the store, delivery, publisher,
 * rate limiter and outbox sweeper once, for the routes and for whoever runs the sweeper.
 */
import type { AblyRest } from '../ably-rest/index.ts'
import { AppError } from '../errors/index.ts'
import type { Logger } from '../log/index.ts'
import { StoreUnavailableError, withTimeout, type MessageStore } from '../store/index.ts'
import type { GatewayConfig } from './config.ts'
import { createDelivery, type Delivery } from './delivery.ts'
import { startSweeper, sweepOutbox, type SweepReport } from './outbox.ts'
import { createPublisher, type Publisher } from './publisher.ts'
import { createRateLimiter, type RateLimiter } from './rate-limit.ts'

export interface GatewayOptions {
  /** The raw store; the gateway bounds every call with `config.storeTimeoutMs`. */
  store: MessageStore
  config: GatewayConfig
  ably: AblyRest
  log: Logger
  now?: () => number
  /** Backoff sleeps; injected so tests never wait. */
  sleep?: (ms: number) => Promise<void>
  random?: () => number
  /** How long a request holds what it stored before a sweeper may take over. */
  requestLeaseMs?: number
}

export interface Gateway {
  config: GatewayConfig
  store: MessageStore
  delivery: Delivery
  publisher: Publisher
  /** Undefined when `PUBLISH_RATE_LIMIT=0`. */
  rateLimit: RateLimiter | undefined
  /** Creates the indexes on first use; a failure is retried by the next call. */
  ready(): Promise<void>
  /** One outbox sweep. */
  sweep(): Promise<SweepReport>
  /** Sweeps every `intervalMs` until the returned function is called. */
  startSweeper(intervalMs: number): () => void
  close(): Promise<void>
}

export function createGateway({ store: rawStore, config, ably, log, now = Date.now, sleep, random, requestLeaseMs = 10_000 }: GatewayOptions): Gateway {
  const store = withTimeout(rawStore, config.storeTimeoutMs)
  const { retry, outbox } = config
  const delivery = createDelivery({
    ably,
    store,
    log,
    now,
    retry,
    maxRequestBytes: config.maxMessageBytes,
    // Due at once after the request's own round; then doubling per failed sweep, so a long outage costs few calls.
    postponeMs: (attempts) => (attempts <= retry.maxAttempts ? 0 : Math.min(outbox.maxDelayMs, outbox.baseDelayMs * 2 ** (Math.ceil(attempts / retry.maxAttempts) - 2))),
    ...(sleep && { sleep }),
    ...(random && { random }),
  })
  let initializing: Promise<void> | undefined
  const ready = () =>
    (initializing ??= store.init().catch((error: unknown) => {
      initializing = undefined
      throw error
    }))
  const sweep = async () => {
    await ready()
    return sweepOutbox({ store, delivery, now, log, ...outbox })
  }
  return {
    config,
    store,
    delivery,
    publisher: createPublisher({ store, delivery, now, budgetMs: config.deliveryBudgetMs, leaseMs: requestLeaseMs, storeCallMs: config.storeTimeoutMs, log }),
    rateLimit: config.rateLimit && createRateLimiter({ store, now, ...config.rateLimit }),
    ready,
    sweep,
    startSweeper: (intervalMs) => startSweeper(sweep, intervalMs, log),
    close: () => store.close(),
  }
}

/** Seconds a client should wait before retrying when the store is unavailable. */
export const STORE_RETRY_AFTER_SEC = 5

/** Runs store work; an unavailable store becomes 503 `store_unavailable` with `Retry-After`. */
export async function storeCall<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (error) {
    if (error instanceof StoreUnavailableError) {
      throw new AppError('store_unavailable', { cause: error, reason: error.message, headers: { 'Retry-After': String(STORE_RETRY_AFTER_SEC) } })
    }
    throw error
  }
}
