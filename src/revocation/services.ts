/**
 * The revocation services over one deny-list store: the deny-list, the session keys, and the check the token route
 * makes before it signs (and the revoke route before an admin acts on another user). `createApp` loads this module on
 * the first request that needs it (`lazyRevocation`, `./lazy.ts`).
 */
import type { Caller } from '../auth/caller.ts'
import { createDenyList, type DenyList, type RevocationStore, type Revoked } from './deny-list.ts'
import { createRevocationKeys, type RevocationKeys } from './keys.ts'

export interface RevocationServices {
  denyList: DenyList
  keys: RevocationKeys
  /** Why `caller`'s session is refused, or undefined, with its revocation key. Throws `RevocationStoreError`. */
  check(caller: Caller): Promise<{ revoked: Revoked | undefined; sessionKey: string }>
}

export function createRevocationServices(store: RevocationStore, ablySecret: string, { now }: { now: () => number }): RevocationServices {
  const denyList = createDenyList(store, { now })
  const keys = createRevocationKeys(ablySecret)
  return {
    denyList,
    keys,
    async check(caller) {
      const [session, userKey] = await Promise.all([keys.session(caller), keys.user(caller.userId)])
      const revoked = await denyList.check({ userKey, sessionKey: session.key, ...(caller.iat !== undefined && { issuedAt: caller.iat * 1000 }) })
      return { revoked, sessionKey: session.key }
    },
  }
}
