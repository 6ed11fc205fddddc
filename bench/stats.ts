/** Small statistics shared by the benches: percentiles of one run, medians over rounds. Runs on Node and Deno. */

/** One measured run of one contender: how many requests, over how long, and its latency percentiles (ms). */
export interface RunStats {
  requests: number
  errors: number
  elapsedMs: number
  requestsPerSecond: number
  p50Ms: number
  p99Ms: number
}

/** The `q` quantile (0–1) of ascending `sorted`, nearest rank. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number
}

/** The median of `values` (NaN when empty). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  if (sorted.length === 0) return Number.NaN
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
}

/** Summarises the first `count` latencies (ms) of a run that lasted `elapsedMs`. */
export function runStats(latencies: Float64Array, count: number, errors: number, elapsedMs: number): RunStats {
  const sorted = latencies.slice(0, count).sort()
  return {
    requests: count,
    errors,
    elapsedMs,
    requestsPerSecond: (count / elapsedMs) * 1000,
    p50Ms: quantile(sorted, 0.5),
    p99Ms: quantile(sorted, 0.99),
  }
}

/** The median of each field over rounds. */
export function medianStats(rounds: readonly RunStats[]): RunStats {
  const of = (field: keyof RunStats) => median(rounds.map((round) => round[field]))
  return {
    requests: of('requests'),
    errors: rounds.reduce((sum, round) => sum + round.errors, 0),
    elapsedMs: of('elapsedMs'),
    requestsPerSecond: of('requestsPerSecond'),
    p50Ms: of('p50Ms'),
    p99Ms: of('p99Ms'),
  }
}
