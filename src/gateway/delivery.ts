/**
 * Delivers stored messages to Ably, with the message id as Ably's idempotent id, so a repeat is dropped by Ably
 * (within its 2-minute window) or by subscribers that deduplicate by id. Messages go in requests of at most
 * `maxRequestBytes` as Ably counts them: one `publish` for a single message, one batch publish otherwise (one spec
 * per message, so each keeps its own idempotency). Retries are bounded, with exponential backoff and full jitter,
 * and never run past the deadline. An Ably 4xx is final: the message is marked failed and logged as an error.
 */
import { backoffMs } from '../ably-rest/backoff.ts'
import { AblyRestError, type AblyMessage, type AblyRest } from '../ably-rest/index.ts'
import { describeError, type Logger } from '../log/index.ts'
import { within, type MessageDoc, type MessageStore, type Settlement } from '../store/index.ts'
import type { RetryPolicy } from './config.ts'

export type DeliveryOutcome = 'published' | 'pending' | 'failed'

export interface DeliveryOptions {
  ably: AblyRest
  store: MessageStore
  log: Logger
  now: () => number
  retry: RetryPolicy
  /** The most bytes (as Ably counts them) in one Ably request. */
  maxRequestBytes: number
  /** How long a message that failed a whole round waits for the next sweep, by its total attempts. */
  postponeMs: (attempts: number) => number
  sleep?: (ms: number) => Promise<void>
  /** In [0, 1): the jitter source. */
  random?: () => number
}

interface DeliverRequest {
  /** The lease holder, who records the outcomes. */
  owner: string
  /** Give up retrying (and leave the rest pending) at this time, in ms since the epoch. */
  deadlineAt: number
  /** Stop waiting for the store to record the outcomes at this time (default: no limit but the store's own). */
  settleBy?: number
}

export interface Delivery {
  /** Publishes `docs` (leased to `owner`) and records each outcome in the store. */
  deliver(docs: readonly MessageDoc[], request: DeliverRequest): Promise<Map<string, DeliveryOutcome>>
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

export function createDelivery({
  ably,
  store,
  log,
  now,
  retry,
  maxRequestBytes,
  postponeMs,
  sleep = realSleep,
  random = Math.random,
}: DeliveryOptions): Delivery {
  /** One Ably request for `docs`: each message's error, or undefined when Ably took it. */
  async function publishOnce(docs: readonly MessageDoc[], signal: AbortSignal): Promise<(AblyRestError | undefined)[]> {
    try {
      const [only] = docs
      if (docs.length === 1 && only) {
        await ably.publish(only.channelName, [toAblyMessage(only)], { signal })
        return [undefined]
      }
      const results = await ably.batchPublish(
        docs.map((doc) => ({ channels: [doc.channelName], messages: [toAblyMessage(doc)] })),
        { signal },
      )
      if (results.length !== docs.length)
        throw new AblyRestError(`Ably batch publish answered ${results.length} results for ${docs.length} messages`, { statusCode: 502 })
      return results.map((result) => ('error' in result ? result.error : undefined))
    } catch (error) {
      const failure =
        error instanceof AblyRestError ? error : new AblyRestError(`Ably publish failed: ${describeError(error)}`, { statusCode: 0, cause: error })
      return docs.map(() => failure)
    }
  }

  async function deliverChunk(chunk: readonly MessageDoc[], { deadlineAt }: DeliverRequest, settlements: Settlement[], outcomes: Map<string, DeliveryOutcome>) {
    let remaining = chunk
    let attempt = 0
    let lastError: AblyRestError | undefined
    while (remaining.length > 0 && attempt < retry.maxAttempts) {
      const timeLeft = deadlineAt - now()
      if (timeLeft <= 0) break
      attempt += 1
      const errors = await publishOnce(remaining, AbortSignal.timeout(timeLeft))
      const retryable: MessageDoc[] = []
      remaining.forEach((doc, index) => {
        const error = errors[index]
        if (!error) {
          settle(doc, attempt, { status: 'published' })
          return
        }
        if (error.retryable) {
          lastError = error
          retryable.push(doc)
          return
        }
        log({
          level: 'error',
          msg: 'publish_rejected',
          messageId: doc._id,
          channelName: doc.channelName,
          statusCode: error.statusCode,
          ablyCode: error.ablyCode,
          error: describeError(error),
        })
        settle(doc, attempt, { status: 'failed', error: summary(error) })
      })
      remaining = retryable
      if (remaining.length === 0 || attempt >= retry.maxAttempts) break
      const wait = backoff(attempt, lastError)
      if (now() + wait >= deadlineAt) break
      await sleep(wait)
    }
    for (const doc of remaining) {
      const attempts = doc.attempts + attempt
      const retryAfterMs = (lastError?.retryAfterSec ?? 0) * 1000
      settle(doc, attempt, {
        status: 'pending',
        nextAttemptAt: new Date(now() + Math.max(retryAfterMs, postponeMs(attempts))),
        error: lastError ? summary(lastError) : 'deadline reached before an attempt',
      })
    }

    function settle(
      doc: MessageDoc,
      attempts: number,
      outcome: { status: 'published' } | { status: 'failed'; error: string } | { status: 'pending'; nextAttemptAt: Date; error: string },
    ) {
      outcomes.set(doc._id, outcome.status)
      settlements.push({ id: doc._id, attempts, now: new Date(now()), ...outcome })
    }
  }

  /** Full jitter over an exponential ceiling; Ably's `Retry-After` (on a 429) is a floor. */
  const backoff = (attempt: number, error: AblyRestError | undefined) => backoffMs(attempt, retry, error?.retryAfterSec, random)

  return {
    async deliver(docs, request) {
      const outcomes = new Map<string, DeliveryOutcome>()
      const settlements: Settlement[] = []
      // Chunks go one after another, so messages of one channel reach Ably in the order they were accepted.
      for (const chunk of chunkBySize(docs, maxRequestBytes)) await deliverChunk(chunk, request, settlements, outcomes)
      try {
        await within(store.settle(settlements, request.owner), (request.settleBy ?? Number.POSITIVE_INFINITY) - now(), 'settle before the deadline')
      } catch (error) {
        // Published but not recorded: the message stays pending and a sweeper republishes the same id.
        log({ level: 'warn', msg: 'settle_failed', owner: request.owner, count: settlements.length, error: describeError(error) })
      }
      return outcomes
    },
  }
}

/** The Ably message for a stored one: its id makes the publish idempotent. */
function toAblyMessage(doc: MessageDoc): AblyMessage {
  return { id: doc._id, name: doc.eventName, data: doc.data }
}

/** Groups messages, in order, into runs whose sizes add up to at most `maxBytes` (a larger message goes alone). */
function chunkBySize<T extends { size: number }>(items: readonly T[], maxBytes: number): T[][] {
  const chunks: T[][] = []
  let current: T[] = []
  let bytes = 0
  for (const item of items) {
    if (current.length > 0 && bytes + item.size > maxBytes) {
      chunks.push(current)
      current = []
      bytes = 0
    }
    current.push(item)
    bytes += item.size
  }
  if (current.length > 0) chunks.push(current)
  return chunks
}

function summary(error: AblyRestError): string {
  return `Ably ${error.statusCode}${error.ablyCode === undefined ? '' : ` ${error.ablyCode}`}: ${describeError(error)}`.slice(0, 300)
}
