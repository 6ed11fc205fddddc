/** The wait before retry `attempt` of an Ably request: full jitter under an exponential ceiling, Ably's `Retry-After` as a floor. */
export function backoffMs(
  attempt: number,
  { baseDelayMs, maxDelayMs }: { baseDelayMs: number; maxDelayMs: number },
  retryAfterSec: number | undefined,
  random: () => number,
): number {
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1))
  return Math.max(Math.floor(random() * ceiling), (retryAfterSec ?? 0) * 1000)
}
