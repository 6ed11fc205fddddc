/**
 * History reads on the embedded store, with its per-channel index against the full scan it did before (issue 11 #9).
 * `npx tsx bench/history.ts [messages] [channels]` prints one JSON line; `measureHistory` returns it.
 *
 * Both sides hold the same messages (default 5,000, the embedded store's cap, over 100 channels) and answer the same
 * query, the one `store.history` sends: one channel's pending and published messages, newest first, one page of 51.
 *   indexed  the embedded store's `history`, which looks at the channel's messages only.
 *   scan     mingo over every message, then sort and limit: what the store did before it had the index.
 * Rounds alternate the two, on the same reads, in one process.
 */
import { find } from 'mingo'
import { seqOf } from '../src/gateway/store-then-deliver.ts'
import type { MessageDoc } from '../src/store/index.ts'
import { createMemoryStore } from '../src/store/memory.ts'

export interface HistoryBench {
  messages: number
  channels: number
  readsPerRound: number
  rounds: number
  indexed: { readsPerSecond: number; meanMs: number }
  scan: { readsPerSecond: number; meanMs: number }
  /** indexed reads per second over scan reads per second (median over rounds). */
  speedup: number
  node: string
}

function doc(n: number, channels: number): MessageDoc {
  const at = new Date(Date.UTC(2026, 0, 1) + n)
  const id = `msg-${n}`
  const channel = `c${n % channels}`
  return {
    _id: id,
    idempotencyKey: `u:alice:new:${n}`,
    fingerprint: '',
    channelName: `sms:alice:${channel}`,
    ownerId: 'alice',
    publisherId: 'alice',
    eventName: 'message',
    data: { contactId: channel, userId: 'alice', message: `message ${n}`.padEnd(200, '.') },
    size: 260,
    status: n % 10 === 0 ? 'pending' : 'published',
    attempts: 1,
    seq: seqOf(at.getTime(), 0, id),
    createdAt: at,
    updatedAt: at,
    nextAttemptAt: at,
    publishedAt: at,
    settledAt: n % 10 === 0 ? null : at,
    leaseOwner: null,
    leaseUntil: null,
    lastError: null,
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0

export async function measureHistory(messages = 5000, channels = 100, readsPerRound = 400, rounds = 5): Promise<HistoryBench> {
  const docs = Array.from({ length: messages }, (_, n) => doc(n, channels))
  const store = createMemoryStore({ maxMessages: messages })
  await store.init()
  await store.insert(docs)
  const query = (n: number) => ({ channelName: `sms:alice:c${(n * 7) % channels}`, limit: 51 })
  const indexed = async (n: number) => (await store.history(query(n))).length
  // The store's own filter, sort and limit, over every message.
  const scan = async (n: number) => {
    const { channelName, limit } = query(n)
    return find(docs, { channelName, status: { $in: ['pending', 'published'] } })
      .sort({ seq: -1 })
      .limit(limit)
      .all()
      .map((found) => structuredClone(found)).length
  }
  for (let n = 0; n < channels; n += 1) if ((await indexed(n)) !== (await scan(n))) throw new Error(`the two sides disagree on channel ${n}`)
  const time = async (read: (n: number) => Promise<number>) => {
    const start = performance.now()
    for (let n = 0; n < readsPerRound; n += 1) await read(n)
    return performance.now() - start
  }
  await time(indexed)
  await time(scan)
  const results = { indexed: [] as number[], scan: [] as number[], ratio: [] as number[] }
  for (let round = 0; round < rounds; round += 1) {
    // Alternate which side goes first, so neither always runs on a warmer (or more collected) heap.
    let indexedMs: number
    let scanMs: number
    if (round % 2 === 0) {
      indexedMs = await time(indexed)
      scanMs = await time(scan)
    } else {
      scanMs = await time(scan)
      indexedMs = await time(indexed)
    }
    results.indexed.push(indexedMs)
    results.scan.push(scanMs)
    results.ratio.push(scanMs / indexedMs)
  }
  await store.close()
  const side = (ms: number) => ({ readsPerSecond: Math.round((readsPerRound * 1000) / ms), meanMs: Number((ms / readsPerRound).toFixed(3)) })
  return {
    messages,
    channels,
    readsPerRound,
    rounds,
    indexed: side(median(results.indexed)),
    scan: side(median(results.scan)),
    speedup: Number(median(results.ratio).toFixed(1)),
    node: process.version,
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await measureHistory(Number(process.argv[2] ?? 5000), Number(process.argv[3] ?? 100))))
}
