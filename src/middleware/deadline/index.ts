/**
 * Answers 504 `deadline_exceeded` when handling a request runs longer than the deadline, below the platform's own
 * limit. The time its body takes to arrive is not handling: the body limit suspends the clock while it reads the body
 * (with a budget of its own, 408 `request_timeout`), and the deadline restarts in full once the body is in.
 */
import type { MiddlewareHandler } from 'hono'
import type { AppEnv } from '../../app-env.ts'
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
export function deadline(ms: number): MiddlewareHandler<AppEnv> {
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

  return function deadline(c, next) {
    return new Promise<void>((resolve, reject) => {
      let request!: InFlight
      let settled = false
      // Every entry's `at` is now + ms when it is added, so re-adding one at the end keeps the Set in deadline order.
      const start = () => {
        if (settled) return
        request = { at: performance.now() + ms, expire: reject }
        inFlight.add(request)
        if (timer === undefined) arm(ms)
      }
      start()
      c.set('suspendDeadline', () => {
        if (!inFlight.delete(request)) return () => {}
        return start
      })
      next().then(
        () => {
          settled = true
          inFlight.delete(request)
          resolve()
        },
        (error: unknown) => {
          settled = true
          inFlight.delete(request)
          reject(error)
        },
      )
    })
  }
}
