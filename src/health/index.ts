/**
 * The health of the whole publish path: the store (reachable, how fast), the outbox (backlog and failures) and Ably,
 * rated healthy / degraded / unhealthy against documented thresholds (README, "Health"). Used by
 * `GET /api/ably/health` and by the scheduled outbox run's `health` line.
 */
import type { AblyRest } from '../ably-rest/index.ts'
import type { HealthCheck, HealthResponse, HealthStatus, OutboxCheck } from '../contract/index.ts'
import type { Logger } from '../log/index.ts'
import type { OutboxStats } from '../store/index.ts'
import { timedCheck } from './check.ts'

export interface HealthThresholds {
  /** A store or Ably check slower than this: degraded. */
  slowMs: number
  /** Each check is abandoned after this long (failed, `timeout`). */
  checkTimeoutMs: number
  /** This many pending messages: degraded; `pendingUnhealthy`: unhealthy. */
  pendingDegraded: number
  pendingUnhealthy: number
  /** The oldest pending message this old (s): degraded (two missed sweeps); `oldestPendingUnhealthySec`: unhealthy. */
  oldestPendingDegradedSec: number
  oldestPendingUnhealthySec: number
  /** This many messages failed for good in the last 24 h: degraded. */
  failedDegraded: number
}

export const DEFAULT_HEALTH_THRESHOLDS: HealthThresholds = {
  slowMs: 1000,
  checkTimeoutMs: 2500,
  pendingDegraded: 100,
  pendingUnhealthy: 10_000,
  oldestPendingDegradedSec: 120,
  oldestPendingUnhealthySec: 900,
  failedDegraded: 1,
}

/** The window of `failedLast24h`. */
const FAILED_WINDOW_MS = 24 * 60 * 60 * 1000

export interface HealthDeps {
  /** The outbox's figures (its latency is the store check's). */
  outboxStats: (failedSince: Date) => Promise<OutboxStats>
  ably: Pick<AblyRest, 'time'>
  now: () => number
  log: Logger
  thresholds?: HealthThresholds
}

/** Everything an admin sees: the status, why, and each check with its figures. */
export type HealthReport = Required<Omit<HealthResponse, 'responseTime'>> & { responseTime: number }

/** Runs the store and Ably checks at once and rates the whole. */
export async function checkHealth({ outboxStats, ably, now, log, thresholds = DEFAULT_HEALTH_THRESHOLDS }: HealthDeps): Promise<HealthReport> {
  const started = now()
  const options = { now, log, slowMs: thresholds.slowMs, timeoutMs: thresholds.checkTimeoutMs }
  const [[store, stats], [ablyCheck]] = await Promise.all([
    timedCheck(() => outboxStats(new Date(started - FAILED_WINDOW_MS)), { ...options, failureMsg: 'store_check_failed' }),
    timedCheck((signal) => ably.time({ signal }), { ...options, failureMsg: 'ably_check_failed' }),
  ])
  const outbox = outboxCheck(stats, started, thresholds)
  const { status, reasons } = rate({ store, outbox, ably: ablyCheck }, thresholds)
  return { status, reasons, checks: { store, outbox, ably: ablyCheck }, timestamp: new Date(now()).toISOString(), responseTime: now() - started }
}

/** The outbox's figures, rated: `stalled` past the unhealthy thresholds, `backlog` past the degraded ones. */
function outboxCheck(stats: OutboxStats | undefined, now: number, thresholds: HealthThresholds = DEFAULT_HEALTH_THRESHOLDS): OutboxCheck {
  if (!stats) return { status: 'unknown', pending: null, oldestPendingAgeSec: null, failedLast24h: null }
  const age = stats.oldestPendingAt === null ? null : Math.max(0, Math.round((now - stats.oldestPendingAt.getTime()) / 1000))
  const over = (value: number | null, limit: number) => value !== null && value >= limit
  const status =
    over(stats.pending, thresholds.pendingUnhealthy) || over(age, thresholds.oldestPendingUnhealthySec)
      ? 'stalled'
      : over(stats.pending, thresholds.pendingDegraded) || over(age, thresholds.oldestPendingDegradedSec) || over(stats.failed, thresholds.failedDegraded)
        ? 'backlog'
        : 'ok'
  return { status, pending: stats.pending, oldestPendingAgeSec: age, failedLast24h: stats.failed }
}

/**
 * Unhealthy when publishes are refused (the store is down) or accepted messages are stuck (the outbox is stalled);
 * degraded when something is slow, Ably is unreachable (publishes are stored and queued, nothing is lost, but
 * nothing reaches browsers), or the outbox has a backlog or recent failures; healthy otherwise.
 */
function rate(
  checks: { store?: HealthCheck; outbox: OutboxCheck; ably?: HealthCheck },
  thresholds: HealthThresholds = DEFAULT_HEALTH_THRESHOLDS,
): { status: HealthStatus; reasons: string[] } {
  const { store, outbox, ably } = checks
  const unhealthy: string[] = []
  const degraded: string[] = []
  if (store?.status === 'failed') unhealthy.push(`store ${store.error ?? 'unreachable'}`)
  if (outbox.pending !== null && outbox.pending >= thresholds.pendingUnhealthy) unhealthy.push(`${outbox.pending} pending (>= ${thresholds.pendingUnhealthy})`)
  else if (outbox.pending !== null && outbox.pending >= thresholds.pendingDegraded)
    degraded.push(`${outbox.pending} pending (>= ${thresholds.pendingDegraded})`)
  const age = outbox.oldestPendingAgeSec
  if (age !== null && age >= thresholds.oldestPendingUnhealthySec) unhealthy.push(`oldest pending ${age} s (>= ${thresholds.oldestPendingUnhealthySec} s)`)
  else if (age !== null && age >= thresholds.oldestPendingDegradedSec) degraded.push(`oldest pending ${age} s (>= ${thresholds.oldestPendingDegradedSec} s)`)
  if (outbox.failedLast24h !== null && outbox.failedLast24h >= thresholds.failedDegraded) degraded.push(`${outbox.failedLast24h} failed in 24 h`)
  if (store?.status === 'slow') degraded.push(`store slow (${store.latencyMs} ms)`)
  if (ably?.status === 'failed') degraded.push(`ably ${ably.error ?? 'unreachable'}`)
  if (ably?.status === 'slow') degraded.push(`ably slow (${ably.latencyMs} ms)`)
  return { status: unhealthy.length > 0 ? 'unhealthy' : degraded.length > 0 ? 'degraded' : 'healthy', reasons: [...unhealthy, ...degraded] }
}

/**
 * The scheduled run's alert line: one `health` line with the backlog figures, at `info` when healthy, `warn` when
 * degraded, `error` when unhealthy, so a log drain can alert on `msg = "health" and status != "healthy"`. Never throws.
 */
export async function logHealthLine({ outboxStats, now, log, thresholds = DEFAULT_HEALTH_THRESHOLDS }: Omit<HealthDeps, 'ably'>): Promise<void> {
  const started = now()
  const [store, stats] = await timedCheck(() => outboxStats(new Date(started - FAILED_WINDOW_MS)), {
    now,
    log,
    slowMs: thresholds.slowMs,
    timeoutMs: thresholds.checkTimeoutMs,
    failureMsg: 'store_check_failed',
  })
  const outbox = outboxCheck(stats, started, thresholds)
  const { status, reasons } = rate({ store, outbox }, thresholds)
  const level = status === 'healthy' ? 'info' : status === 'degraded' ? 'warn' : 'error'
  log({
    level,
    msg: 'health',
    status,
    pending: outbox.pending,
    oldestPendingAgeSec: outbox.oldestPendingAgeSec,
    failedLast24h: outbox.failedLast24h,
    storeLatencyMs: store.latencyMs,
    ...(reasons.length > 0 && { reasons }),
  })
}
