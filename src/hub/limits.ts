/**
 * The hub's limits that copy Ably's defaults, in one place: the per-connection inbound message rate (42911,
 * and 42921 far over it), presence members per channel (91003) and how long presence history is kept.
 */
import { HubError } from './errors.ts'

/** Ably's default per-connection inbound (publish) rate, in messages per second; presence events count too. */
export const DEFAULT_MAX_INBOUND_RATE = 50
/** Ably closes a connection that publishes around 20 times above its rate (42921) instead of refusing messages. */
const FATAL_RATE_FACTOR = 20
/** The code of the inbound-rate breach that ends the connection. */
export const FATAL_RATE_CODE = 42921
/** Ably's limit of members present on one channel, the same on every package (91003). */
export const MAX_PRESENCE_MEMBERS = 200
/** Ably keeps presence history, like messages, for 2 minutes unless persistence is enabled. */
export const DEFAULT_PRESENCE_RETENTION_MS = 120_000
/** Presence events kept per channel within that retention (the default page of a presence history request). */
export const DEFAULT_PRESENCE_HISTORY_LIMIT = 100

/**
 * A token bucket: `capacity` tokens, refilled at `ratePerSecond`. `take(count)` spends `count` tokens and
 * says whether there were enough; a refused take spends nothing.
 */
function createTokenBucket(ratePerSecond: number, capacity: number, now: () => number) {
  let tokens = capacity
  let updatedAt = now()
  return (count: number): boolean => {
    const time = now()
    tokens = Math.min(capacity, tokens + (Math.max(0, time - updatedAt) * ratePerSecond) / 1000)
    updatedAt = time
    if (count > tokens) return false
    tokens -= count
    return true
  }
}

/**
 * One connection's inbound rate limit, for MESSAGE and PRESENCE frames alike, counted in messages (a frame of
 * ten messages counts ten). Within the rate (with a burst of one second's worth) a frame passes; over it, it is
 * refused with 42911 and the connection stays; when the attempts themselves run at 20 times the rate
 * (a burst of one second's worth at that rate), 42921 ends the connection.
 */
export function createInboundLimiter(ratePerSecond: number, now: () => number): (count: number) => void {
  const accepted = createTokenBucket(ratePerSecond, ratePerSecond, now)
  const fatal = ratePerSecond * FATAL_RATE_FACTOR
  const attempts = createTokenBucket(fatal, fatal, now)
  return (count) => {
    const withinFatal = attempts(count)
    if (accepted(count)) return
    if (!withinFatal) {
      throw new HubError(
        FATAL_RATE_CODE,
        `Connection terminated; per-connection publish rate limit exceeded far above the permitted rate; metric = connection.inboundRate; permitted rate = ${ratePerSecond}/s`,
        429,
      )
    }
    throw new HubError(42911, `Rate limit exceeded; request rejected (nonfatal); metric = connection.inboundRate; permitted rate = ${ratePerSecond}/s`, 429)
  }
}
