/** The message store contract: one suite, run against the embedded mingo store and, with MONGODB_URI, a real MongoDB. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { MessageDoc, MessageStore } from '../../src/store/index.ts'

const T0 = Date.UTC(2026, 0, 1)
const at = (ms: number) => new Date(T0 + ms)

let serial = 0
/** A pending message accepted at `T0 + offsetMs`, due immediately, leased to nobody. */
export function messageDoc(overrides: Partial<MessageDoc> = {}, offsetMs = 0): MessageDoc {
  serial += 1
  const id = overrides._id ?? `msg-${serial}`
  const createdAt = at(offsetMs)
  return {
    _id: id,
    idempotencyKey: `u:alice:key-${serial}`,
    fingerprint: `fp-${serial}`,
    channelName: 'sms:alice:c1',
    ownerId: 'alice',
    publisherId: 'alice',
    eventName: 'message',
    data: { n: serial },
    size: 20,
    status: 'pending',
    attempts: 0,
    seq: `${String(createdAt.getTime()).padStart(15, '0')}:${id}`,
    createdAt,
    updatedAt: createdAt,
    nextAttemptAt: createdAt,
    publishedAt: null,
    settledAt: null,
    leaseOwner: null,
    leaseUntil: null,
    lastError: null,
    ...overrides,
  }
}

export interface StoreHarness {
  store: MessageStore
  /** Moves the store's TTL clock, when it has one the test controls. */
  advance?: (ms: number) => void
  cleanup: () => Promise<void>
}

export function messageStoreContract(name: string, open: () => Promise<StoreHarness>) {
  describe(`message store contract: ${name}`, () => {
    let harness: StoreHarness
    let store: MessageStore
    beforeEach(async () => {
      harness = await open()
      store = harness.store
      await store.init()
    })
    afterEach(async () => harness.cleanup())

    it('init is idempotent', async () => {
      await store.init()
    })

    it('inserts once per idempotency key and hands back the stored message on a repeat', async () => {
      const first = messageDoc()
      expect(await store.insert([first])).toEqual([{ inserted: true, doc: first }])
      const repeat = messageDoc({ idempotencyKey: first.idempotencyKey, fingerprint: 'other' })
      const [outcome] = await store.insert([repeat])
      expect(outcome).toEqual({ inserted: false, doc: first })
      expect(await store.findByKeys([first.idempotencyKey])).toEqual([first])
    })

    it('reports each position of a batch with a taken key in the middle', async () => {
      const taken = messageDoc()
      await store.insert([taken])
      const batch = [messageDoc(), messageDoc({ idempotencyKey: taken.idempotencyKey }), messageDoc()]
      const outcomes = await store.insert(batch)
      expect(outcomes.map((outcome) => [outcome.inserted, outcome.doc._id])).toEqual([
        [true, batch[0]?._id],
        [false, taken._id],
        [true, batch[2]?._id],
      ])
      expect((await store.findByIds(batch.map((doc) => doc._id))).map((doc) => doc._id).sort()).toEqual([batch[0]?._id, batch[2]?._id].sort())
    })

    it('concurrent inserts of one key store one message', async () => {
      const key = 'u:alice:same'
      const outcomes = await Promise.all(Array.from({ length: 10 }, () => store.insert([messageDoc({ idempotencyKey: key })])))
      const inserted = outcomes.flat().filter((outcome) => outcome.inserted)
      expect(inserted).toHaveLength(1)
      expect(new Set(outcomes.flat().map((outcome) => outcome.doc._id)).size).toBe(1)
      expect(await store.findByKeys([key])).toHaveLength(1)
    })

    it('claims due pending messages with a free or expired lease, oldest first, up to the limit', async () => {
      const due = [messageDoc({}, 0), messageDoc({}, 1), messageDoc({}, 2)]
      const notDue = messageDoc({ nextAttemptAt: at(10_000) })
      const leased = messageDoc({ leaseOwner: 'other', leaseUntil: at(5_000) })
      const expiredLease = messageDoc({ leaseOwner: 'crashed', leaseUntil: at(500) }, 3)
      const published = messageDoc({ status: 'published' })
      await store.insert([...due, notDue, leased, expiredLease, published])
      const claimed = await store.claim({ owner: 'sweeper-1', now: at(1_000), leaseUntil: at(31_000), limit: 10 })
      expect(claimed.map((doc) => doc._id)).toEqual([...due, expiredLease].map((doc) => doc._id))
      for (const doc of claimed) expect(doc).toMatchObject({ leaseOwner: 'sweeper-1', leaseUntil: at(31_000) })
      expect(await store.claim({ owner: 'sweeper-2', now: at(2_000), leaseUntil: at(32_000), limit: 10 })).toEqual([])
      expect((await store.claim({ owner: 'sweeper-3', now: at(1_000), leaseUntil: at(2_000), limit: 1, ids: [notDue._id] })).map((doc) => doc._id)).toEqual([
        notDue._id,
      ])
    })

    it('D15: two sweepers at once never claim the same message', async () => {
      const docs = Array.from({ length: 40 }, (_, index) => messageDoc({}, index))
      await store.insert(docs)
      const ids: string[] = []
      for (let round = 0; round < 10 && ids.length < docs.length; round += 1) {
        const claims = await Promise.all(
          ['a', 'b', 'c', 'd'].map((owner) => store.claim({ owner: `${owner}${round}`, now: at(100_000), leaseUntil: at(130_000), limit: 15 })),
        )
        ids.push(...claims.flat().map((doc) => doc._id))
      }
      expect(new Set(ids).size).toBe(ids.length)
      expect(ids.sort()).toEqual(docs.map((doc) => doc._id).sort())
    })

    // settledAt is the retention TTL's field (issue 11 #9): set once a message is published or failed, never while pending.
    it('settles: published by anyone, failed or postponed only by the lease holder', async () => {
      const [a, b, c, d] = [messageDoc(), messageDoc(), messageDoc(), messageDoc()]
      await store.insert([a!, b!, c!, d!])
      await store.claim({ owner: 'me', now: at(0), leaseUntil: at(30_000), limit: 10 })
      await store.settle(
        [
          { id: a!._id, attempts: 2, now: at(10), status: 'published' },
          { id: b!._id, attempts: 1, now: at(10), status: 'failed', error: 'Ably 400 40010' },
          { id: c!._id, attempts: 3, now: at(10), status: 'pending', nextAttemptAt: at(60_000), error: 'Ably 503' },
        ],
        'me',
      )
      await store.settle([{ id: d!._id, attempts: 1, now: at(10), status: 'failed', error: 'not mine' }], 'intruder')
      const byId = new Map((await store.findByIds([a!._id, b!._id, c!._id, d!._id])).map((doc) => [doc._id, doc]))
      expect(byId.get(a!._id)).toMatchObject({ status: 'published', attempts: 2, publishedAt: at(10), settledAt: at(10), leaseOwner: null, leaseUntil: null })
      expect(byId.get(b!._id)).toMatchObject({ status: 'failed', attempts: 1, lastError: 'Ably 400 40010', settledAt: at(10), leaseOwner: null })
      expect(byId.get(c!._id)).toMatchObject({
        status: 'pending',
        attempts: 3,
        nextAttemptAt: at(60_000),
        lastError: 'Ably 503',
        settledAt: null,
        leaseOwner: null,
      })
      expect(byId.get(d!._id)).toMatchObject({ status: 'pending', attempts: 0, leaseOwner: 'me' })
      // Published is final: a late failure report does not undo it.
      await store.settle([{ id: a!._id, attempts: 1, now: at(20), status: 'failed', error: 'late' }], 'me')
      expect((await store.findByIds([a!._id]))[0]).toMatchObject({ status: 'published', attempts: 2, settledAt: at(10) })
    })

    it('issue 11 #9: init takes a retention and a changed one (the TTL index updated in place)', async () => {
      await store.init({ retentionSec: 3600 })
      await store.init({ retentionSec: 7200 })
      await store.init({ retentionSec: 7200 })
    })

    it('returns history newest first, without failed messages, paged by seq', async () => {
      const docs = [0, 1, 2, 3, 4].map((offset) => messageDoc({}, offset * 1000))
      const failed = messageDoc({ status: 'failed' }, 2500)
      const elsewhere = messageDoc({ channelName: 'sms:alice:c2' }, 100)
      await store.insert([...docs, failed, elsewhere])
      const page1 = await store.history({ channelName: 'sms:alice:c1', limit: 3 })
      expect(page1.map((doc) => doc._id)).toEqual([docs[4], docs[3], docs[2]].map((doc) => doc?._id))
      const page2 = await store.history({ channelName: 'sms:alice:c1', limit: 3, before: page1.at(-1)?.seq })
      expect(page2.map((doc) => doc._id)).toEqual([docs[1], docs[0]].map((doc) => doc?._id))
      expect(await store.history({ channelName: 'sms:bob:c1', limit: 3 })).toEqual([])
    })

    it('counts rate-limit hits per window key, also under concurrency', async () => {
      const expiresAt = new Date(Date.now() + 60_000)
      expect(await store.reserve('alice:1', 1, 100, expiresAt)).toEqual({ granted: true, count: 1 })
      expect(await store.reserve('alice:1', 3, 100, expiresAt)).toEqual({ granted: true, count: 4 })
      expect(await store.reserve('bob:1', 1, 100, expiresAt)).toEqual({ granted: true, count: 1 })
      const totals = await Promise.all(Array.from({ length: 10 }, () => store.reserve('carol:1', 1, 100, expiresAt)))
      expect(totals.map((total) => total.count).sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    })

    it('issue 11 #5: a reservation that does not fit is refused and adds nothing; a release gives hits back', async () => {
      const expiresAt = new Date(Date.now() + 60_000)
      expect(await store.reserve('dave:1', 50, 60, expiresAt)).toEqual({ granted: true, count: 50 })
      expect(await store.reserve('dave:1', 20, 60, expiresAt)).toEqual({ granted: false, count: 50 })
      expect(await store.reserve('dave:1', 10, 60, expiresAt)).toEqual({ granted: true, count: 60 })
      expect(await store.reserve('dave:1', 1, 60, expiresAt)).toEqual({ granted: false, count: 60 })
      await store.release('dave:1', 7)
      expect(await store.reserve('dave:1', 7, 60, expiresAt)).toEqual({ granted: true, count: 60 })
      // A first reservation larger than the limit creates the window empty.
      expect(await store.reserve('erin:1', 61, 60, expiresAt)).toEqual({ granted: false, count: 0 })
    })

    it('issue 11 #5: concurrent batches never add up past the limit, and every refused one did not fit', async () => {
      const expiresAt = new Date(Date.now() + 60_000)
      const sizes = Array.from({ length: 40 }, (_, n) => 1 + ((n * 7) % 13))
      const outcomes = await Promise.all(sizes.map((hits) => store.reserve('frank:1', hits, 60, expiresAt).then((outcome) => ({ hits, ...outcome }))))
      const granted = outcomes.filter((outcome) => outcome.granted)
      const refused = outcomes.filter((outcome) => !outcome.granted)
      const total = granted.reduce((sum, outcome) => sum + outcome.hits, 0)
      expect(total).toBeLessThanOrEqual(60)
      expect(refused.length).toBeGreaterThan(0)
      // Nothing is given back here, so the count only grew: a refused batch would not fit even now.
      for (const outcome of refused) expect(total + outcome.hits).toBeGreaterThan(60)
      // The window holds exactly what was granted: refusals consumed nothing.
      expect(await store.reserve('frank:1', 0, 60, expiresAt)).toEqual({ granted: true, count: total })
      // Equal batches: exactly as many fit as the limit allows.
      const equal = await Promise.all(Array.from({ length: 12 }, () => store.reserve('grace:1', 7, 60, expiresAt)))
      expect(equal.filter((outcome) => outcome.granted)).toHaveLength(8)
      expect(Math.max(...equal.map((outcome) => outcome.count))).toBe(56)
    })

    it('outboxStats: pending count, oldest pending, failures since a time', async () => {
      expect(await store.outboxStats(at(0))).toEqual({ pending: 0, oldestPendingAt: null, failed: 0 })
      await store.insert([
        messageDoc({}, 5_000),
        messageDoc({}, 1_000),
        messageDoc({ status: 'published', publishedAt: at(0) }, 0),
        messageDoc({ status: 'failed', updatedAt: at(-60_000) }, -120_000),
        messageDoc({ status: 'failed', updatedAt: at(2_000) }, -90_000),
        messageDoc({ status: 'failed', updatedAt: at(3_000) }, -90_000),
      ])
      expect(await store.outboxStats(at(0))).toEqual({ pending: 2, oldestPendingAt: at(1_000), failed: 2 })
      expect((await store.outboxStats(at(-60_000))).failed).toBe(3)
    })
  })
}
