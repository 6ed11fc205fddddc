/**
 * The revocation services as `createApp` holds them: the deny-list and the key derivation are loaded on their first
 * use, so an edge isolate with `ABLY_REVOCABLE_TOKENS` off never evaluates them (nor with it on, before a token request).
 */
import type { Revocation } from '../app-env.ts'
import type { Caller } from '../auth/caller.ts'
import type { DenyList, RevocationStore, Revoked } from './deny-list.ts'
import type { RevocationKeys } from './keys.ts'

export function lazyRevocation(store: RevocationStore, ablySecret: string, { now, ably }: Pick<Revocation, 'ably'> & { now: () => number }): Revocation {
  let loaded: Promise<{ denyList: DenyList; keys: RevocationKeys }> | undefined
  const load = () =>
    (loaded ??= Promise.all([import('./deny-list.ts'), import('./keys.ts')]).then(([{ createDenyList }, { createRevocationKeys }]) => ({
      denyList: createDenyList(store, { now }),
      keys: createRevocationKeys(ablySecret),
    })))
  return {
    denyList: {
      check: async (session) => (await load()).denyList.check(session),
      revokeSession: async (userKey, sessionKey, keepUntil) => (await load()).denyList.revokeSession(userKey, sessionKey, keepUntil),
      revokeUser: async (userKey, before, keepUntil) => (await load()).denyList.revokeUser(userKey, before, keepUntil),
    },
    keys: {
      session: async (caller) => (await load()).keys.session(caller),
      user: async (userId) => (await load()).keys.user(userId),
    },
    ably,
  }
}

/**
 * A store loaded on first use (`lazyNetlifyBlobsStore` below): an edge entry then evaluates the store's client only
 * when revocation is on and a token is requested.
 */
function lazyRevocationStore(load: () => Promise<RevocationStore>): RevocationStore {
  let loaded: Promise<RevocationStore> | undefined
  const store = () => (loaded ??= load())
  return {
    read: async (key) => (await store()).read(key),
    get: async (key) => (await store()).get(key),
    put: async (key, record, version) => (await store()).put(key, record, version),
  }
}

/** The Netlify Blobs deny-list for an edge function, its client loaded on the first token request that needs it. */
export const lazyNetlifyBlobsStore = (): RevocationStore =>
  lazyRevocationStore(() => import('./netlify-blobs.ts').then((blobs) => blobs.createNetlifyBlobsStore()))

/**
 * Why `caller`'s session is refused, or undefined, with its revocation key: the check the token route makes before it
 * signs, and the revoke route before an admin acts on another user. Throws RevocationStoreError.
 */
export async function checkCaller(denyList: DenyList, keys: RevocationKeys, caller: Caller): Promise<{ revoked: Revoked | undefined; sessionKey: string }> {
  const [session, userKey] = await Promise.all([keys.session(caller), keys.user(caller.userId)])
  const revoked = await denyList.check({ userKey, sessionKey: session.key, ...(caller.iat !== undefined && { issuedAt: caller.iat * 1000 }) })
  return { revoked, sessionKey: session.key }
}
