/**
 * The few collection operations the store needs, in MongoDB's own query and update language, so the store logic is
 * written once: MongoDB runs it natively and the embedded store runs it with mingo.
 */

export type Doc = { _id: string }
/** A MongoDB query document, e.g. `{ status: 'pending', nextAttemptAt: { $lte: now } }`. */
export type Filter = Record<string, unknown>
/** The update operators the store uses. */
export interface Update {
  $set?: Record<string, unknown>
  $inc?: Record<string, number>
  $setOnInsert?: Record<string, unknown>
}
/** An update pipeline (MongoDB 4.2+): stages such as `$set` whose values are aggregation expressions over the document. */
export type Pipeline = readonly Record<string, unknown>[]
export type Sort = Record<string, 1 | -1>

/** Tells an update pipeline from an operator update. */
export function isPipeline(update: Update | Pipeline): update is Pipeline {
  return Array.isArray(update)
}

interface IndexSpec {
  name: string
  key: Record<string, 1 | -1>
  unique?: boolean
  /** A TTL index: documents go once the (date) field is this many seconds in the past. */
  expireAfterSeconds?: number
}

export interface CollectionSpec {
  name: string
  indexes: readonly IndexSpec[]
}

export interface Collection<T extends Doc> {
  /** Inserts every document it can; returns the positions refused because a unique key was taken. */
  insertMany(docs: readonly T[]): Promise<{ duplicates: number[] }>
  find(filter: Filter, options?: { sort?: Sort; limit?: number }): Promise<T[]>
  /**
   * Updates the first match (by `sort`) atomically and returns it as updated, or inserts one when `upsert` and none
   * matched (an upsert starts from the filter's equalities, then applies the update or pipeline).
   */
  findOneAndUpdate(filter: Filter, update: Update | Pipeline, options?: { sort?: Sort; upsert?: boolean }): Promise<T | null>
  /** Returns how many documents matched. */
  updateMany(filter: Filter, update: Update): Promise<number>
  /** How many documents match. */
  count(filter: Filter): Promise<number>
}

export interface Database {
  collection<T extends Doc>(spec: CollectionSpec): Collection<T>
  /** Creates the spec's indexes (idempotent). */
  createIndexes(spec: CollectionSpec): Promise<void>
  close(): Promise<void>
}

/**
 * The outbox and history of accepted messages; with a retention, a TTL index removes a message that long after it
 * was delivered or failed (`settledAt` is null while it is pending, and MongoDB's TTL monitor skips anything not a date).
 */
export function messagesCollection(retentionSec?: number): CollectionSpec {
  return {
    name: 'messages',
    indexes: [
      { name: 'idempotencyKey_unique', key: { idempotencyKey: 1 }, unique: true },
      { name: 'outbox_due', key: { status: 1, nextAttemptAt: 1 } },
      { name: 'history', key: { channelName: 1, seq: -1 } },
      // The health figures (`outboxStats`): the oldest pending by `createdAt`, and failures by when they failed.
      { name: 'outbox_age', key: { status: 1, createdAt: 1 } },
      { name: 'outbox_settled', key: { status: 1, updatedAt: 1 } },
      ...(retentionSec === undefined ? [] : [{ name: 'settledAt_ttl', key: { settledAt: 1 as const }, expireAfterSeconds: retentionSec }]),
    ],
  }
}

/** Per-user rate-limit windows, removed by MongoDB once they have expired. */
export const rateLimitsCollection: CollectionSpec = {
  name: 'rate_limits',
  indexes: [{ name: 'expiresAt_ttl', key: { expiresAt: 1 }, expireAfterSeconds: 0 }],
}
