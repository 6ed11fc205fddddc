/**
 * Netlify Blobs' edge API as the `@netlify/blobs` client sees it, in process (a `fetch` for `getStore`), with the
 * semantics Netlify documents and its local emulator (`BlobsServer`) lacks: a conditional write is atomic and every
 * write gets a new ETag (the emulator checks and writes across awaits, and its ETag is the file's mtime, the same for
 * two writes in one millisecond). Reads through `edgeURL` (eventual) are served from a cache that keeps an answer,
 * a 404 included, for `staleMs`; reads through `uncachedEdgeURL` (strong) always see the latest write.
 *
 * `pause(request)` runs before each request is served, so a test can interleave two writers exactly;
 * `etagOnRead: false` answers a read without its ETag, as the emulator does (the version is then only in a listing).
 */
export const EDGE_URL = 'http://edge.blobs.test'
export const ORIGIN_URL = 'http://origin.blobs.test'

interface BlobsEdgeRequest {
  method: string
  /** The key, or undefined for a listing. */
  key: string | undefined
  consistency: 'strong' | 'eventual'
  /** The writer, by the token its client was given. */
  token: string
}

export interface BlobsEdgeOptions {
  staleMs?: number
  etagOnRead?: boolean
  pause?: (request: BlobsEdgeRequest) => Promise<void> | void
  now?: () => number
}

export function createBlobsEdge({ staleMs = 60_000, etagOnRead = true, pause, now = Date.now }: BlobsEdgeOptions = {}) {
  const blobs = new Map<string, { body: string; etag: string }>()
  const cache = new Map<string, { at: number; status: number; body: string; etag: string | undefined }>()
  let versions = 0
  const writes: string[] = []

  const fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init)
    const url = new URL(request.url)
    // /{siteID}/{store}/{key…}; without a key, a listing.
    const [, , , ...rest] = url.pathname.split('/').map(decodeURIComponent)
    const key = rest.length > 0 ? rest.join('/') : undefined
    const consistency = url.origin === ORIGIN_URL ? 'strong' : 'eventual'
    const token = (request.headers.get('authorization') ?? '').replace(/^Bearer /, '')
    const body = request.method === 'PUT' ? await request.text() : ''
    await pause?.({ method: request.method, key, consistency, token })

    // From here on nothing awaits: each request is served atomically, as one step of the store.
    if (request.method === 'PUT' && key !== undefined) {
      const current = blobs.get(key)
      const ifMatch = request.headers.get('if-match')
      if (request.headers.get('if-none-match') === '*' && current) return new Response(null, { status: 412 })
      if (ifMatch !== null && current?.etag !== ifMatch) return new Response(null, { status: 412 })
      const etag = `"v${++versions}"`
      blobs.set(key, { body, etag })
      writes.push(token)
      return new Response(null, { status: 200, headers: { etag } })
    }
    if (request.method !== 'GET') return new Response(null, { status: 405 })
    if (key === undefined) {
      const prefix = url.searchParams.get('prefix') ?? ''
      const listed = [...blobs].filter(([name]) => name.startsWith(prefix)).map(([name, { etag }]) => ({ key: name, etag }))
      return Response.json({ blobs: listed, directories: [] })
    }
    const answer = () => {
      const stored = blobs.get(key)
      return { at: now(), status: stored ? 200 : 404, body: stored?.body ?? '', etag: stored?.etag }
    }
    let served = answer()
    if (consistency === 'eventual') {
      const cached = cache.get(key)
      if (cached && now() - cached.at < staleMs) served = cached
      else cache.set(key, served)
    }
    if (served.status === 404) return new Response(null, { status: 404 })
    return new Response(served.body, { status: 200, headers: etagOnRead && served.etag ? { etag: served.etag } : {} })
  }

  return {
    fetch: fetch as typeof globalThis.fetch,
    /** Which writer (by token) made each successful write, in order. */
    writes,
    /** The stored record of `key`, parsed. */
    stored: (key: string) => {
      const found = blobs.get(key)
      return found && (JSON.parse(found.body) as unknown)
    },
  }
}
