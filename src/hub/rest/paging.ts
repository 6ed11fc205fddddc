/** Query parameters of Ably's paginated REST endpoints, and the `Link` header that pages through them. */
import type { HistoryPage, HistoryQuery } from '../channels.ts'
import { HubError } from '../errors.ts'

const DEFAULT_LIMIT = 100
const MAX_LIMIT = 1000

function integerParam(params: URLSearchParams, name: string): number | undefined {
  const value = params.get(name)
  if (value === null || value === '') return undefined
  const number = Number(value)
  if (!Number.isSafeInteger(number)) throw new HubError(40000, `Parameter "${name}" must be an integer`, 400)
  return number
}

/** Parses `limit`, `direction`, `start`, `end`, `from_serial` and `cursor` of a history request. */
export function historyQuery(params: URLSearchParams): HistoryQuery {
  const limit = integerParam(params, 'limit') ?? DEFAULT_LIMIT
  if (limit < 1 || limit > MAX_LIMIT) throw new HubError(40000, `Parameter "limit" must be 1 to ${MAX_LIMIT}`, 400)
  const direction = params.get('direction') ?? 'backwards'
  if (direction !== 'backwards' && direction !== 'forwards') {
    throw new HubError(40000, 'Parameter "direction" must be forwards or backwards', 400)
  }
  return {
    limit,
    direction,
    start: integerParam(params, 'start'),
    end: integerParam(params, 'end'),
    untilSerial: params.get('from_serial') ?? undefined,
    cursor: params.get('cursor') ?? undefined,
  }
}

/** Ably's `Link` header: relative `./<segment>?…` links that repeat every query parameter. */
export function linkHeader(segment: string, query: HistoryQuery, page: HistoryPage<unknown>): string {
  const base: [string, string | number | undefined][] = [
    ['limit', query.limit],
    ['direction', query.direction],
    ['start', query.start],
    ['end', query.end],
    ['from_serial', query.untilSerial],
  ]
  const link = (cursor: string | undefined, rel: string) => {
    const pairs = [...base, ['cursor', cursor] as const].filter(([, value]) => value !== undefined)
    const search = pairs.map(([name, value]) => `${name}=${encodeURIComponent(String(value))}`).join('&')
    return `<./${segment}?${search}>; rel="${rel}"`
  }
  const links = [link(undefined, 'first'), link(query.cursor, 'current')]
  if (page.next !== undefined) links.push(link(page.next, 'next'))
  return links.join(', ')
}

/** A page of the members present on a channel: `limit` (1 to 1,000, default 100) from the `cursor`-th on. */
export interface PresencePageQuery {
  limit: number
  offset: number
  clientId: string | undefined
  connectionId: string | undefined
}

/** Parses `limit`, `clientId`, `connectionId` and `cursor` of `GET /channels/{name}/presence`. */
export function presenceQuery(params: URLSearchParams): PresencePageQuery {
  const limit = integerParam(params, 'limit') ?? DEFAULT_LIMIT
  if (limit < 1 || limit > MAX_LIMIT) throw new HubError(40000, `Parameter "limit" must be 1 to ${MAX_LIMIT}`, 400)
  const cursor = params.get('cursor')
  const offset = cursor === null ? 0 : Number(cursor)
  if (!Number.isSafeInteger(offset) || offset < 0) throw new HubError(40000, 'Parameter "cursor" is not valid', 400)
  return { limit, offset, clientId: params.get('clientId') ?? undefined, connectionId: params.get('connectionId') ?? undefined }
}

/** The `Link` header of a presence page: `./presence?…` links, `next` while members remain after this page. */
export function presenceLinkHeader(query: PresencePageQuery, total: number): string {
  const link = (offset: number, rel: string) => {
    const pairs: [string, string | number | undefined][] = [
      ['limit', query.limit],
      ['clientId', query.clientId],
      ['connectionId', query.connectionId],
      ['cursor', offset === 0 ? undefined : offset],
    ]
    const search = pairs
      .filter(([, value]) => value !== undefined)
      .map(([name, value]) => `${name}=${encodeURIComponent(String(value))}`)
      .join('&')
    return `<./presence?${search}>; rel="${rel}"`
  }
  const links = [link(0, 'first'), link(query.offset, 'current')]
  if (query.offset + query.limit < total) links.push(link(query.offset + query.limit, 'next'))
  return links.join(', ')
}
