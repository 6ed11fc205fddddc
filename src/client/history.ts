/** Reads the gateway's `GET /api/ably/history`: the store, which also holds messages still queued for Ably. */
import type { HistoryItem, HistoryQuery, HistoryResponse } from '../contract/index.ts'

export type { HistoryItem, HistoryResponse }

/** One page's query: `limit` is 1 to 100 (the gateway's default is 50), `before` a `next` value or an ISO 8601 time. */
export type HistoryRequest = HistoryQuery

export interface HistoryClient {
  /** The history endpoint. */
  historyUrl: string
  /** The app JWT to send; a falsy value means there is no session. */
  appToken: string | null | undefined
  fetch?: typeof globalThis.fetch
}

/** A history request that failed; `status` is the HTTP status, or 0 when there was no answer. */
export class HistoryError extends Error {
  override readonly name = 'HistoryError'
  constructor(readonly status: number) {
    super(status === 0 ? 'The history request failed' : `The history endpoint answered ${status}`)
  }
}

/** One page of a channel's history, newest first. */
export async function fetchHistory(
  { historyUrl, appToken, fetch = (input, init) => globalThis.fetch(input, init) }: HistoryClient,
  { channelName, limit, before }: HistoryRequest,
): Promise<HistoryResponse> {
  if (!appToken) throw new HistoryError(401)
  const query = new URLSearchParams({ channelName })
  if (limit !== undefined) query.set('limit', String(limit))
  if (before !== undefined) query.set('before', before)
  const separator = historyUrl.includes('?') ? '&' : '?'
  let res: Response
  try {
    res = await fetch(`${historyUrl}${separator}${query}`, { headers: { Authorization: `Bearer ${appToken}` } })
  } catch {
    throw new HistoryError(0)
  }
  if (!res.ok) throw new HistoryError(res.status)
  const body: unknown = await res.json().catch(() => undefined)
  if (!isHistoryResponse(body)) throw new HistoryError(502)
  return body
}

/**
 * The channel's messages accepted at or after `since` (ms, server time), oldest first: pages back from the newest
 * until one is older than `since`, at most `maxPages` pages. The first page is small: usually little was missed.
 */
export async function historySince(
  client: HistoryClient,
  channelName: string,
  since: number,
  { firstPageSize = 20, pageSize = 100, maxPages = 10 } = {},
): Promise<HistoryItem[]> {
  const found: HistoryItem[] = []
  let before: string | undefined
  for (let page = 0; page < maxPages; page += 1) {
    const limit = page === 0 ? firstPageSize : pageSize
    const { messages, next } = await fetchHistory(client, { channelName, limit, ...(before !== undefined && { before }) })
    for (const item of messages) if (item.timestamp >= since) found.push(item)
    if (next === null || messages.some((item) => item.timestamp < since)) break
    before = next
  }
  return found.reverse()
}

function isHistoryResponse(body: unknown): body is HistoryResponse {
  if (typeof body !== 'object' || body === null) return false
  const { messages, next } = body as Partial<Record<keyof HistoryResponse, unknown>>
  return Array.isArray(messages) && (next === null || typeof next === 'string') && messages.every(isHistoryItem)
}

function isHistoryItem(item: unknown): item is HistoryItem {
  if (typeof item !== 'object' || item === null) return false
  const { id, name, timestamp } = item as Partial<Record<keyof HistoryItem, unknown>>
  return typeof id === 'string' && typeof name === 'string' && typeof timestamp === 'number'
}
