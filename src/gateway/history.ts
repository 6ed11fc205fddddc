/** Reading a channel's stored messages, newest first, a page at a time: the gateway's `history` use case. */
import type { HistoryItem, HistoryResponse } from '../contract/index.ts'
import { AppError } from '../errors/index.ts'
import type { MessageDoc, MessageStore } from '../store/index.ts'
import type { ChannelPolicy } from '../policy/index.ts'
import { smsInbox } from '../policy/sms-inbox.ts'
import type { Caller } from './prepare.ts'

export interface HistoryRequest {
  caller: Caller
  channelName: string
  /** 1 to the configured maximum; the configured default when absent. */
  limit?: number | undefined
  /** A `next` value of an earlier page, or an ISO 8601 time (messages accepted strictly before it). */
  before?: string | undefined
  /** Told the rate-limit headers (`RateLimit`, `RateLimit-Policy`) once a user's read is counted. */
  onRateLimit?: ((headers: Record<string, string>) => void) | undefined
}

export interface HistoryLimits {
  defaultLimit: number
  maxLimit: number
}

/** A `next` value: time, then index and id (or, stored before the index was added, the id alone). */
const CURSOR = /^\d{15}(:\d{4})?(:[A-Za-z0-9_-]{1,64})?$/

/**
 * Checks the request, counts it with `admit` (which throws to refuse), then reads one page plus one message (to know
 * whether there is a next page) with `read`, so that a bad request is refused before the store is asked anything.
 */
export async function readHistory(
  read: MessageStore['history'],
  { caller, channelName, limit, before }: HistoryRequest,
  limits: HistoryLimits,
  admit: () => Promise<void> = async () => {},
  policy: ChannelPolicy = smsInbox,
): Promise<HistoryResponse> {
  const channel = policy.parse(channelName)
  if (!channel) throw policy.invalidChannel()
  if (!policy.mayRead(caller, channel)) {
    throw new AppError('forbidden', { message: 'You can only read the history of your own channels.' })
  }
  const size = limit ?? limits.defaultLimit
  if (!Number.isInteger(size) || size < 1 || size > limits.maxLimit) throw historyLimitError(limits.maxLimit)
  const cursor = historyCursor(before)
  await admit()
  const docs = await read({ channelName, limit: size + 1, ...(cursor !== undefined && { before: cursor }) })
  const page = docs.slice(0, size)
  return { channelName, messages: page.map(historyItem), next: docs.length > size ? (page.at(-1)?.seq ?? null) : null }
}

/** The 400 for a `limit` that is not a whole number from 1 to `maxLimit`. */
export function historyLimitError(maxLimit: number): AppError {
  return new AppError('invalid_request', { message: `limit must be a whole number from 1 to ${maxLimit}.` })
}

function historyCursor(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined
  if (CURSOR.test(raw)) return raw
  const ms = /^\d{4}-\d{2}-\d{2}T/.test(raw) ? Date.parse(raw) : Number.NaN
  if (!Number.isFinite(ms) || ms < 0)
    throw new AppError('invalid_request', { message: 'before must be the "next" value of an earlier page or an ISO 8601 time.' })
  return String(ms).padStart(15, '0')
}

function historyItem(doc: MessageDoc): HistoryItem {
  return { id: doc._id, name: doc.eventName, data: doc.data, timestamp: doc.createdAt.getTime(), status: doc.status === 'published' ? 'published' : 'pending' }
}
