/**
 * The deny-list's store on Netlify: Netlify Blobs, one JSON blob per user in the site-wide store `ably-revocations`,
 * written with `onlyIfMatch`/`onlyIfNew` (compare-and-set). Reads ask for strong consistency: Blobs' default
 * (eventual) lets a read at another edge node see an old value for up to about a minute, during which a just-revoked
 * session could renew (README, "Revocation", has the measured cost of each).
 */
import { getStore, type Store } from '@netlify/blobs'
import type { RevocationStore, UserRevocations } from './deny-list.ts'

export const REVOCATION_STORE_NAME = 'ably-revocations'

export interface NetlifyBlobsOptions {
  /** `strong` (the default) or `eventual`. */
  consistency?: 'strong' | 'eventual'
  /** Explicit credentials (tests, or a host outside Netlify); by default Netlify's own context is used. */
  siteID?: string
  token?: string
  apiURL?: string
  edgeURL?: string
  uncachedEdgeURL?: string
}

/** A `RevocationStore` over Netlify Blobs; the store is opened on first use (inside a request, where Netlify's context is set). */
export function createNetlifyBlobsStore({ consistency = 'strong', ...credentials }: NetlifyBlobsOptions = {}): RevocationStore {
  let store: Store | undefined
  const open = () => (store ??= getStore({ name: REVOCATION_STORE_NAME, consistency, ...credentials }))
  return {
    async read(key) {
      return ((await open().get(key, { type: 'json' })) as UserRevocations | null) ?? undefined
    },
    async get(key) {
      const found = await open().getWithMetadata(key, { type: 'json' })
      if (!found) return undefined
      // Netlify answers a read with its ETag; its local emulator (`BlobsServer`) only lists it.
      const etag = found.etag ?? (await open().list({ prefix: key })).blobs.find((blob) => blob.key === key)?.etag
      if (etag === undefined) throw new Error('Netlify Blobs returned no version for a stored record')
      return { record: found.data as UserRevocations, version: etag }
    },
    async put(key, record, version) {
      const conditions = version === undefined ? { onlyIfNew: true } : { onlyIfMatch: version }
      const { modified } = await open().setJSON(key, record, conditions)
      return modified
    },
  }
}
