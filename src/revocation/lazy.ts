/**
 * The revocation services as `createApp` holds them, loaded on their first use: an edge isolate with
 * `ABLY_REVOCABLE_TOKENS` off never evaluates them (nor with it on, before a token request).
 */
import type { Revocation } from '../app-env.ts'
import { loadOnce } from '../lazy/index.ts'
import type { RevocationStore } from './deny-list.ts'

export function lazyRevocation(store: RevocationStore, ablySecret: string, { now, ably }: Pick<Revocation, 'ably'> & { now: () => number }): Revocation {
  return {
    load: loadOnce(() => import('./services.ts').then(({ createRevocationServices }) => createRevocationServices(store, ablySecret, { now }))),
    ably,
  }
}

/**
 * A store loaded on first use (`lazyNetlifyBlobsStore` below): an edge entry then evaluates the store's client only
 * when revocation is on and a token is requested.
 */
function lazyRevocationStore(load: () => Promise<RevocationStore>): RevocationStore {
  const store = loadOnce(load)
  return {
    read: async (key) => (await store()).read(key),
    get: async (key) => (await store()).get(key),
    put: async (key, record, version) => (await store()).put(key, record, version),
  }
}

/** The Netlify Blobs deny-list for an edge function, its client loaded on the first token request that needs it. */
export const lazyNetlifyBlobsStore = (): RevocationStore =>
  lazyRevocationStore(() => import('./netlify-blobs.ts').then((blobs) => blobs.createNetlifyBlobsStore()))
