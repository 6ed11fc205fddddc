/**
 * The message store port: the outbox and history of every accepted message, and per-user rate-limit windows.
 * One implementation of the logic (`messages.ts`) runs over a small collection port that MongoDB (`mongodb.ts`)
 * and an embedded mingo collection (`memory.ts`) both serve, so the same filter and update documents run in both.
 */

type MessageStatus = 'pending' | 'published' | 'failed'

/** One accepted message. `_id` is the message id, and Ably's idempotent id when it is published. */
export interface MessageDoc {
  _id: string
  /** Unique: the caller's scope and its idempotency key (or a generated one). */
  idempotencyKey: string
  /** A hash of what was asked, to tell a retry from a different request reusing the key. */
  fingerprint: string
  channelName: string
  /** The user whose channel this is. */
  ownerId: string
  /** Who published: a user id, or `server` for the server helpers. */
  publisherId: string
  eventName: string
  data: Record<string, unknown>
  /** The size Ably counts for the message, in bytes. */
  size: number
  status: MessageStatus
  /** Publish attempts so far. */
  attempts: number
  /** Sorts messages by acceptance: the zero-padded acceptance time in ms, `:`, the zero-padded index in its request, `:`, and the id. */
  seq: string
  createdAt: Date
  updatedAt: Date
  /** A sweeper may try again from this time. */
  nextAttemptAt: Date
  publishedAt: Date | null
  /** When it was published or failed (set once, never while pending): retention counts from it. */
  settledAt: Date | null
  /** Who is publishing it right now (a request or a sweeper), until `leaseUntil`. */
  leaseOwner: string | null
  leaseUntil: Date | null
  lastError: string | null
}

type InsertOutcome = { inserted: true; doc: MessageDoc } | { inserted: false; doc: MessageDoc }

interface ClaimRequest {
  owner: string
  now: Date
  leaseUntil: Date
  limit: number
  /** Claim only these messages (a retried request taking over its own message); otherwise any due message. */
  ids?: readonly string[]
  /** Count messages due by this time as due (default `now`): a sweeper that sees Ably back claims postponed ones. */
  dueBy?: Date
}

/** The outcome of one delivery attempt round for one message, recorded by the lease holder. */
export type Settlement = { id: string; attempts: number; now: Date } & (
  | { status: 'published' }
  | { status: 'failed'; error: string }
  | { status: 'pending'; nextAttemptAt: Date; error: string }
)

interface HistoryQuery {
  channelName: string
  limit: number
  /** Only messages whose `seq` sorts before this. */
  before?: string
}

interface StoreInitOptions {
  /**
   * Delivered and failed messages are removed this long after they settled (a TTL index on `settledAt`, which a
   * pending message does not have). Without it, messages are kept until removed by hand.
   */
  retentionSec?: number
}

/** The outcome of `reserve`: `count` is the window's total after it (unchanged when not granted). */
interface Reservation {
  granted: boolean
  count: number
}

/** The outbox's backlog, for health checks and the scheduled run's `health` line. */
export interface OutboxStats {
  /** Messages accepted and not yet published. */
  pending: number
  /** When the oldest pending message was accepted; null when none is pending. */
  oldestPendingAt: Date | null
  /** Messages marked failed since `failedSince`. */
  failed: number
}

export interface MessageStore {
  /** Creates the indexes, with the retention of settled messages when given. Safe to call on every start. */
  init(options?: StoreInitOptions): Promise<void>
  findByKeys(keys: readonly string[]): Promise<MessageDoc[]>
  findByIds(ids: readonly string[]): Promise<MessageDoc[]>
  /** Inserts new messages. A message whose idempotency key is taken is not inserted: the stored one comes back. */
  insert(docs: readonly MessageDoc[]): Promise<InsertOutcome[]>
  /** Leases pending messages whose lease is free or expired (and that are due, unless `ids` are given) to `owner`. */
  claim(request: ClaimRequest): Promise<MessageDoc[]>
  /** Records outcomes. Failed and pending outcomes apply only while `owner` holds the lease. */
  settle(settlements: readonly Settlement[], owner: string): Promise<void>
  /** Accepted messages of one channel, newest first, failed ones excluded. */
  history(query: HistoryQuery): Promise<MessageDoc[]>
  /**
   * Adds `hits` to the rate-limit window `key` (created with `expiresAt` if new) only if its total stays within
   * `limit`, in one atomic update: granted or not, and the window's total after it. A refusal adds nothing.
   */
  reserve(key: string, hits: number, limit: number, expiresAt: Date): Promise<Reservation>
  /** Gives back `hits` that a granted reservation did not use (the compensating decrement). */
  release(key: string, hits: number): Promise<void>
  /** The outbox's backlog, and how many messages failed since `failedSince` (indexed queries: `outbox_age`, `outbox_settled`). */
  outboxStats(failedSince: Date): Promise<OutboxStats>
  close(): Promise<void>
}

/** The store cannot answer now (down, slow or timing out). Retry later; nothing was published. */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError'
  /** Stable, and the API code it becomes at the boundary. */
  readonly code = 'store_unavailable'
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
  }
}

/** `work`'s result, or `StoreUnavailableError` once `ms` have passed (the work itself may still land later). */
export async function within<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  if (ms === Number.POSITIVE_INFINITY) return work
  let timer: ReturnType<typeof setTimeout> | undefined
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StoreUnavailableError(`${what} took longer than ${Math.max(0, Math.round(ms))} ms`)), Math.max(0, ms))
  })
  try {
    return await Promise.race([work, expired])
  } finally {
    clearTimeout(timer)
  }
}

/** Wraps a store so that every call fails with `StoreUnavailableError` once it has run `timeoutMs`. */
export function withTimeout(store: MessageStore, timeoutMs: number): MessageStore {
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new TypeError(`withTimeout: timeoutMs must be positive, got ${timeoutMs}`)
  const guard =
    <A extends unknown[], R>(name: string, call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> =>
      within(call(...args), timeoutMs, `store ${name}`)
  return {
    init: guard('init', (options?: StoreInitOptions) => store.init(options)),
    findByKeys: guard('findByKeys', (keys: readonly string[]) => store.findByKeys(keys)),
    findByIds: guard('findByIds', (ids: readonly string[]) => store.findByIds(ids)),
    insert: guard('insert', (docs: readonly MessageDoc[]) => store.insert(docs)),
    claim: guard('claim', (request: ClaimRequest) => store.claim(request)),
    settle: guard('settle', (settlements: readonly Settlement[], owner: string) => store.settle(settlements, owner)),
    history: guard('history', (query: HistoryQuery) => store.history(query)),
    reserve: guard('reserve', (key: string, hits: number, limit: number, expiresAt: Date) => store.reserve(key, hits, limit, expiresAt)),
    release: guard('release', (key: string, hits: number) => store.release(key, hits)),
    outboxStats: guard('outboxStats', (failedSince: Date) => store.outboxStats(failedSince)),
    close: () => store.close(),
  }
}
