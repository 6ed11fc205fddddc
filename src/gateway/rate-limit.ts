/**
 * Per-user rate limiting on publish: a fixed window counted in the store, so every function instance shares it.
 * Answers with `RateLimit` and `RateLimit-Policy` (draft-ietf-httpapi-ratelimit-headers) and, when over, 429 with
 * `Retry-After`. Each message counts, so a batch of ten uses ten.
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

/** Counts `hits` for `userId` and returns the headers to send, or throws 429 `rate_limited` with them. */
export type RateLimiter = (userId: string, hits: number) => Promise<Record<string, string>>

export function createRateLimiter({ store, limit, windowSec, now, name = 'publish' }: RateLimiterOptions): RateLimiter {
  if (!Number.isInteger(limit) || limit < 1 || !Number.isInteger(windowSec) || windowSec < 1) {
    throw new TypeError(`createRateLimiter: limit and windowSec must be positive integers, got ${limit} and ${windowSec}`)
  }
  const windowMs = windowSec * 1000
  const policy = `"${name}";q=${limit};w=${windowSec}`
  return async function rateLimit(userId, hits) {
    const at = now()
    const windowStart = Math.floor(at / windowMs) * windowMs
    const resetSec = Math.max(1, Math.ceil((windowStart + windowMs - at) / 1000))
    const count = await store.hit(`${name}:${userId}:${windowStart}`, hits, new Date(windowStart + windowMs))
    const headers = { 'RateLimit-Policy': policy, RateLimit: `"${name}";r=${Math.max(0, limit - count)};t=${resetSec}` }
    if (count > limit) {
      throw new AppError('rate_limited', { headers: { ...headers, 'Retry-After': String(resetSec) }, reason: `${count} > ${limit} in ${windowSec} s` })
    }
    return headers
  }
}
