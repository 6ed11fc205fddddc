/**
 * Per-user rate limiting (publish, and history reads): a fixed window counted in the store, so every function
 * instance shares it. Answers with `RateLimit` and `RateLimit-Policy` (draft-ietf-httpapi-ratelimit-headers) and,
 * when over, 429 with `Retry-After`.
 *
 * The mechanism is an atomic conditional reserve with a compensating release: `reserve` adds the hits to the window
 * in one store update only if they fit, so a refused request consumes nothing and concurrent requests never add up
 * past the limit; a request that reserved more than it stored (a message a concurrent request stored first, a 422
 * found only after reserving, too little time left to store) gives the rest back with `release`.
 */
import { AppError } from '../errors/index.ts'
import type { MessageStore } from '../store/index.ts'

export interface RateLimiterOptions {
  store: MessageStore
  limit: number
  windowSec: number
  now: () => number
  /** The policy name in the headers and the window keys. */
  name?: string
}

/** What a granted reservation holds. */
interface Reservation {
  /** `RateLimit` and `RateLimit-Policy` as the window stands after this reservation (and what it gave back). */
  headers(): Record<string, string>
  /** Gives back `hits` reserved and not used. */
  release(hits: number): Promise<void>
}

/** Reserves `hits` for `userId`, or throws 429 `rate_limited` (with `Retry-After`) having consumed nothing. */
export type RateLimiter = (userId: string, hits: number) => Promise<Reservation>

export function createRateLimiter({ store, limit, windowSec, now, name = 'publish' }: RateLimiterOptions): RateLimiter {
  if (!Number.isInteger(limit) || limit < 1 || !Number.isInteger(windowSec) || windowSec < 1) {
    throw new TypeError(`createRateLimiter: limit and windowSec must be positive integers, got ${limit} and ${windowSec}`)
  }
  const windowMs = windowSec * 1000
  const policy = `"${name}";q=${limit};w=${windowSec}`
  return async function reserve(userId, hits) {
    const at = now()
    const windowStart = Math.floor(at / windowMs) * windowMs
    const resetSec = Math.max(1, Math.ceil((windowStart + windowMs - at) / 1000))
    const key = `${name}:${userId}:${windowStart}`
    const window = await store.reserve(key, hits, limit, new Date(windowStart + windowMs))
    let count = window.count
    const headers = () => ({ 'RateLimit-Policy': policy, RateLimit: `"${name}";r=${Math.max(0, limit - count)};t=${resetSec}` })
    if (!window.granted) {
      throw new AppError('rate_limited', {
        headers: { ...headers(), 'Retry-After': String(resetSec) },
        reason: `${count} + ${hits} > ${limit} in ${windowSec} s`,
      })
    }
    return {
      headers,
      async release(unused) {
        if (unused <= 0) return
        await store.release(key, unused)
        count -= unused
      },
    }
  }
}
