/**
 * The outbox sweeper: republishes what is still pending (Ably was down, or a request died between storing and
 * publishing). Each round leases a batch, so two sweepers never claim the same message; a message still pending
 * after `maxAgeSec` is marked failed and logged.
 *
 * Messages that failed a whole round wait out a backoff (up to minutes) so a sweeper does not hammer a failing Ably.
 * When nothing is due, a sweep probes with the one postponed message that is due first: if Ably takes it, Ably is
 * back, and the same sweep delivers every postponed message at once instead of leaving each to its backoff.
 */
import { describeError, type Logger } from '../log/index.ts'
import type { MessageStore } from '../store/index.ts'
import type { Delivery } from './delivery.ts'

export interface SweepOptions {
  store: MessageStore
  delivery: Delivery
  now: () => number
  log: Logger
  leaseMs: number
  batchSize: number
  /** Stop starting new rounds after this long. */
  runBudgetMs: number
  maxAgeSec: number
  /** Names this sweeper's leases; a fresh one per round by default. */
  newOwner?: () => string
}

/** Later than any `nextAttemptAt`. */
const END_OF_TIME = new Date(8.64e15)

export interface SweepReport {
  rounds: number
  claimed: number
  published: number
  pending: number
  failed: number
  expired: number
}

/** One sweep: rounds of claim → deliver until nothing is due, Ably is still failing, or the budget is spent. */
export async function sweepOutbox({
  store,
  delivery,
  now,
  log,
  leaseMs,
  batchSize,
  runBudgetMs,
  maxAgeSec,
  newOwner = () => `sweep:${crypto.randomUUID()}`,
}: SweepOptions): Promise<SweepReport> {
  const report: SweepReport = { rounds: 0, claimed: 0, published: 0, pending: 0, failed: 0, expired: 0 }
  const start = now()
  const stopAt = start + runBudgetMs
  // Undefined: only what is due. After a probe got through: everything pending.
  let dueBy: Date | undefined
  let probing = false
  while (now() < stopAt) {
    const owner = newOwner()
    const at = now()
    let claimed = await store.claim({ owner, now: new Date(at), leaseUntil: new Date(at + leaseMs), limit: batchSize, ...(dueBy && { dueBy }) })
    if (claimed.length === 0 && !dueBy && !probing) {
      probing = true
      claimed = await store.claim({ owner, now: new Date(at), leaseUntil: new Date(at + leaseMs), limit: 1, dueBy: END_OF_TIME })
    }
    if (claimed.length === 0) break
    report.rounds += 1
    report.claimed += claimed.length

    const oldest = at - maxAgeSec * 1000
    const expired = claimed.filter((doc) => doc.createdAt.getTime() < oldest)
    if (expired.length > 0) {
      for (const doc of expired)
        log({ level: 'error', msg: 'outbox_expired', messageId: doc._id, channelName: doc.channelName, attempts: doc.attempts, lastError: doc.lastError })
      await store.settle(
        expired.map((doc) => ({ id: doc._id, attempts: 0, now: new Date(at), status: 'failed' as const, error: `still pending after ${maxAgeSec} s` })),
        owner,
      )
      report.expired += expired.length
    }

    const live = claimed.filter((doc) => doc.createdAt.getTime() >= oldest)
    // Stop well before the lease runs out, so no other sweeper can take these while we still publish them.
    const outcomes = await delivery.deliver(live, { owner, deadlineAt: Math.min(at + leaseMs / 2, stopAt) })
    let progressed = false
    for (const outcome of outcomes.values()) {
      report[outcome] += 1
      if (outcome !== 'pending') progressed = true
    }
    // Ably is still refusing everything: leave the rest to the next run instead of hammering it.
    if (live.length > 0 && !progressed) break
    if (probing && !dueBy) {
      // The probe was only an expired message: nothing learned about Ably, so the rest keep their backoff.
      if (!progressed) break
      log({ level: 'info', msg: 'outbox_ably_recovered', detail: 'a postponed message got through; delivering every postponed message now' })
      dueBy = END_OF_TIME
    }
  }
  if (report.claimed > 0) log({ level: report.pending > 0 ? 'warn' : 'info', msg: 'outbox_sweep', ...report, durationMs: now() - start })
  return report
}

/** Runs `sweep` every `intervalMs` (for hosts without a scheduler, e.g. `npm start`); returns the stop function. */
export function startSweeper(sweep: () => Promise<unknown>, intervalMs: number, log: Logger): () => void {
  let running = false
  const timer = setInterval(() => {
    if (running) return
    running = true
    sweep()
      .catch((error: unknown) => log({ level: 'warn', msg: 'outbox_sweep_failed', error: describeError(error) }))
      .finally(() => {
        running = false
      })
  }, intervalMs)
  timer.unref?.()
  return () => clearInterval(timer)
}
