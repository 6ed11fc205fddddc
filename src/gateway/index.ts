/**
 * The publish gateway (Node only). It owns its use cases: `accept` (check, store, rate limit, deliver) and `history`,
 * which the HTTP routes (`routes.ts`) and the server helpers (`src/server`) adapt. `createGateway` wires the store,
 * delivery, rate limiter and outbox sweeper once; none of them is exposed.
 */
import type { AblyRest } from '../ably-rest/index.ts'
import type { HistoryResponse } from '../contract/index.ts'
import { AppError } from '../errors/index.ts'
import type { Logger } from '../log/index.ts'
import { StoreUnavailableError, withTimeout, type MessageStore, type OutboxStats } from '../store/index.ts'
import type { GatewayConfig } from './config.ts'
import { createDelivery } from './delivery.ts'
import { readHistory, type HistoryRequest } from './history.ts'
import { startSweeper, sweepOutbox, type SweepReport } from './outbox.ts'
import type { ChannelPolicy } from '../policy/index.ts'
import { gatewayPolicy, prepareMessages, type Caller, type PublishItem } from './prepare.ts'
import { createRateLimiter } from './rate-limit.ts'
import { createStoreThenDeliver, type Accepted, type AcceptedStatus } from './store-then-deliver.ts'

export type { Accepted, AcceptedStatus } from './store-then-deliver.ts'
export type { Caller } from './prepare.ts'
export type { SweepReport } from './outbox.ts'

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
  /** The channel policy: which channels exist, who may publish and read, the events and their payloads. The SMS inbox by default. */
  policy?: ChannelPolicy
}

interface AcceptOptions {
  caller: Caller
  /** The request's `Idempotency-Key`, when sent: a repeat of the request publishes nothing new. */
  requestKey?: string | undefined
  /** The items came as a batch (`{ messages: [...] }`): keys and error details then carry each one's index. Default: more than one item. */
  batch?: boolean
  /** When the answer is due (ms since the epoch); nothing is stored that the answer could not wait for. */
  deadline?: number | undefined
  /** Told the rate-limit headers (`RateLimit`, `RateLimit-Policy`) once a user's new messages are counted. */
  onRateLimit?: (headers: Record<string, string>) => void
}

export interface Gateway {
  /** The checked configuration it was built with. */
  readonly config: GatewayConfig
  /** The channel policy it enforces. */
  readonly policy: ChannelPolicy
  /**
   * Checks every item (all or nothing), counts them against the caller's rate limit, stores what is new (once per
   * idempotency key) and delivers it within the budget: one result per item, in order. Refusals are `AppError`s.
   */
  accept(items: readonly PublishItem[], options: AcceptOptions): Promise<Accepted[]>
  /** One page of a channel's stored messages, newest first, for a caller allowed to read it. */
  history(request: HistoryRequest): Promise<HistoryResponse>
  /** One outbox sweep. */
  sweep(): Promise<SweepReport>
  /** Sweeps every `intervalMs` until the returned function is called. */
  startSweeper(intervalMs: number): () => void
  /** The outbox backlog and the failures since `failedSince`, for health (store errors are thrown as they are). */
  outboxStats(failedSince: Date): Promise<OutboxStats>
  close(): Promise<void>
}

export function createGateway({
  store: rawStore,
  config,
  ably,
  log,
  now = Date.now,
  sleep,
  random,
  requestLeaseMs = 10_000,
  policy: channelPolicy,
}: GatewayOptions): Gateway {
  const policy = gatewayPolicy(channelPolicy)
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
    postponeMs: (attempts) =>
      attempts <= retry.maxAttempts ? 0 : Math.min(outbox.maxDelayMs, outbox.baseDelayMs * 2 ** (Math.ceil(attempts / retry.maxAttempts) - 2)),
    ...(sleep && { sleep }),
    ...(random && { random }),
  })
  const storeThenDeliver = createStoreThenDeliver({
    store,
    delivery,
    now,
    budgetMs: config.deliveryBudgetMs,
    leaseMs: requestLeaseMs,
    storeCallMs: config.storeTimeoutMs,
    log,
  })
  const publishLimit = config.rateLimit && createRateLimiter({ store, now, ...config.rateLimit })
  const historyLimit = config.history.rateLimit && createRateLimiter({ store, now, name: 'history', ...config.history.rateLimit })
  let initializing: Promise<void> | undefined
  // Creates the indexes on first use; a failure is retried by the next call.
  const ready = () =>
    (initializing ??= store.init({ retentionSec: config.retentionSec }).catch((error: unknown) => {
      initializing = undefined
      throw error
    }))
  const sweep = async () => {
    await ready()
    return sweepOutbox({ store, delivery, now, log, ...outbox })
  }

  return {
    config,
    policy: policy.policy,
    async accept(items, { caller, requestKey, batch = items.length > 1, deadline, onRateLimit }) {
      const prepared = await prepareMessages(items, batch, {
        caller,
        policy,
        requestKey,
        maxMessageBytes: config.maxMessageBytes,
        newKey: () => crypto.randomUUID(),
      })
      return storeCall(async () => {
        await ready()
        return storeThenDeliver(prepared, {
          // Random, not the request id: a client may send its own X-Request-Id, and two requests must never share a lease.
          owner: `${caller.kind === 'user' ? 'req' : 'server'}:${crypto.randomUUID()}`,
          publisherId: caller.kind === 'user' ? caller.userId : 'server',
          deadlineAt: deadline,
          // Only new messages of a user count; a trusted server is not limited.
          reserve:
            publishLimit && caller.kind === 'user'
              ? async (count) => {
                  const reservation = await publishLimit(caller.userId, count)
                  onRateLimit?.(reservation.headers())
                  return {
                    release: async (unused) => {
                      await reservation.release(unused)
                      onRateLimit?.(reservation.headers())
                    },
                  }
                }
              : undefined,
        })
      })
    },
    history: (request) =>
      readHistory(
        (query) =>
          storeCall(async () => {
            await ready()
            return store.history(query)
          }),
        request,
        config.history,
        // Each read of a user counts one; a trusted server is not limited.
        async () => {
          const { caller, onRateLimit } = request
          if (!historyLimit || caller.kind !== 'user') return
          await storeCall(async () => {
            await ready()
            onRateLimit?.((await historyLimit(caller.userId, 1)).headers())
          })
        },
        policy.policy,
      ),
    sweep,
    startSweeper: (intervalMs) => startSweeper(sweep, intervalMs, log),
    async outboxStats(failedSince) {
      await ready()
      return store.outboxStats(failedSince)
    },
    close: () => store.close(),
  }
}

/** The only result of a one-message call; a message Ably refused for good is a 502 `publish_rejected`. */
export function onlyResult([result]: readonly Accepted[]): Accepted & { status: Exclude<AcceptedStatus, 'failed'> } {
  if (!result) throw new AppError('internal_error', { reason: 'no result' })
  if (result.status === 'failed') throw new AppError('publish_rejected', { details: { messageId: result.messageId } })
  return { ...result, status: result.status }
}

/** Seconds a client should wait before retrying when the store is unavailable. */
const STORE_RETRY_AFTER_SEC = 5

/** Runs store work; an unavailable store becomes 503 `store_unavailable` with `Retry-After`. */
async function storeCall<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (error) {
    if (error instanceof StoreUnavailableError) {
      throw new AppError('store_unavailable', { cause: error, reason: error.message, headers: { 'Retry-After': String(STORE_RETRY_AFTER_SEC) } })
    }
    throw error
  }
}
