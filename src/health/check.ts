/** One timed health check: bounded by a timeout (even when the work ignores its signal), rated ok / slow / failed. */
import type { CheckResult } from '../contract/index.ts'
import { describeError, type Logger } from '../log/index.ts'

export interface CheckOptions {
  now: () => number
  log: Logger
  /** Slower than this is `slow`. */
  slowMs: number
  /** The check is abandoned after this long (`failed`, error `timeout`). */
  timeoutMs: number
  /** The warn line logged when the check fails, e.g. `ably_check_failed`. */
  failureMsg: string
}

/** Runs `run` and rates it; the value is undefined when it failed. */
export async function timedCheck<T>(
  run: (signal: AbortSignal) => Promise<T>,
  { now, log, slowMs, timeoutMs, failureMsg }: CheckOptions,
): Promise<[CheckResult, T | undefined]> {
  const started = now()
  const signal = AbortSignal.timeout(timeoutMs)
  // Race the abort as well, so a port that ignores its signal still cannot hold the request.
  const aborted = new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }))
  try {
    const value = await Promise.race([run(signal), aborted])
    const latencyMs = now() - started
    return [{ status: latencyMs > slowMs ? 'slow' : 'ok', latencyMs }, value]
  } catch (error) {
    log({ level: 'warn', msg: failureMsg, error: describeError(error) })
    return [
      { status: 'failed', latencyMs: now() - started, error: error instanceof Error && error.name === 'TimeoutError' ? 'timeout' : 'unreachable' },
      undefined,
    ]
  }
}
