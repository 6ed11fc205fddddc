/** Answers 504 `deadline_exceeded` when a request runs longer than the deadline, below the platform's own limit. */
import type { MiddlewareHandler } from 'hono'
import { AppError } from '../../errors/index.ts'

/** The longest delay timers take (2^31 - 1 ms, about 24.8 days). */
const MAX_DELAY_MS = 2 ** 31 - 1

interface InFlight {
  /** When the request's deadline passes, on `performance.now()`'s clock. */
  readonly at: number
  readonly expire: (error: AppError) => void
}

/**
 * Every request gets the same `ms`, so the order requests start in is the order their deadlines pass in: one timer,
 * set for the oldest request in flight, serves them all, and a request costs a Set entry instead of a timer.
 * The timer is `AbortSignal.timeout`, not `setTimeout`: on Deno (the edge) the first `setTimeout` loads Node's
 * timers module, ~5 ms of an isolate's first response. It cannot be cancelled, so an idle Deno process lives until
 * it fires, at most `ms` after the last request started (Node does not wait for it).
 */
export function deadline(ms: number): MiddlewareHandler {
  if (!Number.isFinite(ms) || ms <= 0) throw new TypeError(`deadline: ms must be a positive number, got ${ms}`)
  const inFlight = new Set<InFlight>()
  // Held while armed: Node cancels the timeout of a signal nothing references any more.
  let timer: AbortSignal | undefined
  const arm = (delay: number) => {
    // Whole milliseconds: Node's `AbortSignal.timeout` refuses fractions.
    timer = AbortSignal.timeout(Math.min(Math.ceil(delay), MAX_DELAY_MS))
    timer.addEventListener('abort', expireOldest, { once: true })
  }
  function expireOldest() {
    timer = undefined
    const now = performance.now()
    for (const request of inFlight) {
      if (request.at > now) return arm(request.at - now)
      inFlight.delete(request)
      request.expire(new AppError('deadline_exceeded', { reason: `over ${ms} ms` }))
    }
  }

  return function deadline(_c, next) {
    return new Promise<void>((resolve, reject) => {
      const request: InFlight = { at: performance.now() + ms, expire: reject }
      inFlight.add(request)
      if (timer === undefined) arm(ms)
      next().then(
        () => {
          inFlight.delete(request)
          resolve()
        },
        (error: unknown) => {
          inFlight.delete(request)
          reject(error)
        },
      )
    })
  }
}
