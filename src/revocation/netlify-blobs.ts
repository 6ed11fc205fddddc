/**
 * The deny-list's store on Netlify: Netlify Blobs, one JSON blob per user in the site-wide store `ably-revocations`,
 * written with `onlyIfMatch`/`onlyIfNew` (compare-and-set). Reads ask for strong consistency: Blobs' default
 * (eventual) lets a read at another edge node see an old value for up to about a minute, during which a just-revoked
 * session could renew (README, "Revocation", has the measured cost of each).
 */
import { getStore, type Store } from '@netlify/blobs'
import type { RevocationStore, UserRevocations } from './deny-list.ts'

const REVOCATION_STORE_NAME = 'ably-revocations'

export interface NetlifyBlobsOptions {
  /** `strong` (the default) or `eventual`. */
  consistency?: 'strong' | 'eventual'
  /** Explicit credentials (tests, or a host outside Netlify); by default Netlify's own context is used. */
  siteID?: string
  token?: string
  apiURL?: string
  edgeURL?: string
  uncachedEdgeURL?: string
  /** The HTTP client `@netlify/blobs` uses (tests); the global `fetch` by default. */
  fetch?: typeof globalThis.fetch
}

/**
 * A `RevocationStore` over Netlify Blobs; the store is opened on first use (inside a request, where Netlify's context is
 * set). `read` (the token route's check) has the chosen consistency; the read before a write is always strong, since a
 * compare-and-set against a cached version could only fail until the cache expires (a revoke answering 503 meanwhile).
 */
export function createNetlifyBlobsStore({ consistency = 'strong', ...credentials }: NetlifyBlobsOptions = {}): RevocationStore {
  const stores = new Map<'strong' | 'eventual', Store>()
  const open = (mode: 'strong' | 'eventual' = consistency) => {
    const store = stores.get(mode) ?? getStore({ name: REVOCATION_STORE_NAME, consistency: mode, ...credentials })
    stores.set(mode, store)
    return store
  }
  const latest = (key: string) => open('strong').getWithMetadata(key, { type: 'json' })
  return {
    async read(key) {
      return ((await open().get(key, { type: 'json' })) as UserRevocations | null) ?? undefined
    },
    async get(key) {
      const found = await latest(key)
      if (!found) return undefined
      if (found.etag !== undefined) return { record: found.data as UserRevocations, version: found.etag }
      // Netlify's local emulator (`BlobsServer`) sends no ETag with a read, only in a listing. The version is taken
      // first and the data after it: a write in between leaves the data newer than the version, so the compare-and-set
      // that follows fails and is retried, rather than overwriting that write with data read before it.
      const etag = (await open('strong').list({ prefix: key })).blobs.find((blob) => blob.key === key)?.etag
      const after = await latest(key)
      if (!after) return undefined
      if (etag === undefined) throw new Error('Netlify Blobs returned no version for a stored record')
      return { record: after.data as UserRevocations, version: etag }
    },
    async put(key, record, version) {
      const conditions = version === undefined ? { onlyIfNew: true } : { onlyIfMatch: version }
      const { modified } = await open('strong').setJSON(key, record, conditions)
      return modified
    },
  }
}
