/** The store logic, written once in MongoDB's query language over the collection port (MongoDB or mingo). */
import { messagesCollection, rateLimitsCollection, type Database, type Filter, type Update } from './collection.ts'
import type { MessageDoc, MessageStore, Settlement } from './index.ts'

interface RateWindow {
  _id: string
  count: number
  /** Whether the last reservation was granted (read back from the update that decided it). */
  granted: boolean
  expiresAt: Date
}

/** Builds the message store over `db`. */
export function createMessageStore(db: Database): MessageStore {
  const messages = db.collection<MessageDoc>(messagesCollection())
  const windows = db.collection<RateWindow>(rateLimitsCollection)

  return {
    async init({ retentionSec } = {}) {
      await db.createIndexes(messagesCollection(retentionSec))
      await db.createIndexes(rateLimitsCollection)
    },

    async findByKeys(keys) {
      return keys.length === 0 ? [] : messages.find({ idempotencyKey: { $in: [...keys] } })
    },

    async findByIds(ids) {
      return ids.length === 0 ? [] : messages.find({ _id: { $in: [...ids] } })
    },

    async insert(docs) {
      if (docs.length === 0) return []
      const { duplicates } = await messages.insertMany(docs)
      if (duplicates.length === 0) return docs.map((doc) => ({ inserted: true, doc }))
      const refused = new Set(duplicates)
      const stored = await messages.find({ idempotencyKey: { $in: duplicates.map((index) => docs[index]?.idempotencyKey) } })
      const byKey = new Map(stored.map((doc) => [doc.idempotencyKey, doc]))
      return docs.map((doc, index) => {
        if (!refused.has(index)) return { inserted: true, doc }
        const existing = byKey.get(doc.idempotencyKey)
        // A refused insert with no holder of its key can only be an `_id` collision between random ids.
        if (!existing) throw new Error(`insert refused for ${doc._id} but no message holds its idempotency key`)
        return { inserted: false, doc: existing }
      })
    },

    async claim({ owner, now, leaseUntil, limit, ids, dueBy = now }) {
      // Each document's update re-checks the filter atomically, so of two claimers only one takes any message.
      const claimable: Filter = {
        status: 'pending',
        $or: [{ leaseUntil: null }, { leaseUntil: { $lte: now } }],
        ...(ids ? { _id: { $in: [...ids] } } : { nextAttemptAt: { $lte: dueBy } }),
      }
      const candidates = await messages.find(claimable, { sort: { nextAttemptAt: 1 }, limit })
      if (candidates.length === 0) return []
      const mine: Filter = { _id: { $in: candidates.map((doc) => doc._id) } }
      await messages.updateMany({ ...claimable, ...mine }, { $set: { leaseOwner: owner, leaseUntil, updatedAt: now } })
      return messages.find({ ...mine, leaseOwner: owner, leaseUntil }, { sort: { nextAttemptAt: 1 } })
    },

    async settle(settlements, owner) {
      const groups = new Map<string, { settlement: Settlement; ids: string[] }>()
      for (const settlement of settlements) {
        const { id, ...outcome } = settlement
        const key = JSON.stringify(outcome)
        const group = groups.get(key)
        if (group) group.ids.push(id)
        else groups.set(key, { settlement, ids: [id] })
      }
      await Promise.all([...groups.values()].map(({ settlement, ids }) => messages.updateMany(settleFilter(settlement, ids, owner), settleUpdate(settlement))))
    },

    async history({ channelName, limit, before }) {
      const filter: Filter = { channelName, status: { $in: ['pending', 'published'] }, ...(before !== undefined && { seq: { $lt: before } }) }
      return messages.find(filter, { sort: { seq: -1 }, limit })
    },

    async reserve(key, hits, limit, expiresAt) {
      // One atomic update of the window (an upsert for its first use): `granted` is decided from the count as it is
      // inside the update, so concurrent reservations can never add up past the limit, and a refusal adds nothing.
      const count = { $ifNull: ['$count', 0] }
      const window = await windows.findOneAndUpdate(
        { _id: key },
        [
          { $set: { granted: { $lte: [{ $add: [count, hits] }, limit] }, expiresAt: { $ifNull: ['$expiresAt', { $literal: expiresAt }] } } },
          { $set: { count: { $add: [count, { $cond: ['$granted', hits, 0] }] } } },
        ],
        { upsert: true },
      )
      if (!window) throw new Error(`rate-limit window ${key} was neither updated nor inserted`)
      return { granted: window.granted, count: window.count }
    },

    async release(key, hits) {
      if (hits > 0) await windows.updateMany({ _id: key }, { $inc: { count: -hits } })
    },

    async outboxStats(failedSince) {
      const [pending, [oldest], failed] = await Promise.all([
        messages.count({ status: 'pending' }),
        messages.find({ status: 'pending' }, { sort: { createdAt: 1 }, limit: 1 }),
        messages.count({ status: 'failed', updatedAt: { $gte: failedSince } }),
      ])
      return { pending, oldestPendingAt: oldest?.createdAt ?? null, failed }
    },

    close: () => db.close(),
  }
}

function settleFilter(settlement: Settlement, ids: string[], owner: string): Filter {
  // Whoever published a message may say so even after losing its lease; only the holder may fail or postpone it.
  return { _id: { $in: ids }, status: 'pending', ...(settlement.status !== 'published' && { leaseOwner: owner }) }
}

function settleUpdate(settlement: Settlement): Update {
  const released = { leaseOwner: null, leaseUntil: null, updatedAt: settlement.now }
  const $inc = { attempts: settlement.attempts }
  switch (settlement.status) {
    case 'published':
      return { $set: { ...released, status: 'published', publishedAt: settlement.now, settledAt: settlement.now }, $inc }
    case 'failed':
      return { $set: { ...released, status: 'failed', lastError: settlement.error, settledAt: settlement.now }, $inc }
    case 'pending':
      return { $set: { ...released, nextAttemptAt: settlement.nextAttemptAt, lastError: settlement.error }, $inc }
  }
}
