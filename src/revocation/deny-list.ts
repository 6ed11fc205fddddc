/**
 * The deny-list the token route honours: per user a "revoked before" time (log out everywhere) and per session a
 * revoked marker (log out this device), each kept until the longest token it could cover has expired. One record per
 * user, so a token request costs one read. It sits on a small key-value port: the platform's store at the edge
 * (Netlify Blobs, ./netlify-blobs.ts) and an embedded one locally (`createMemoryRevocationStore`).
 */

/** What is kept for one user (keyed by the user's deny-list key, never the raw user id). */
export interface UserRevocations {
  /** App sessions issued (app JWT `iat`) before this time, in ms since the epoch, are refused. */
  revokedBefore?: number
  /** Until when `revokedBefore` is kept, in ms since the epoch. */
  revokedBeforeUntil?: number
  /** Revoked sessions by revocation key, each with the time (ms) until which it is kept. */
  sessions: Record<string, number>
}

/** A stored record and its version, for a conditional write. */
interface Versioned {
  record: UserRevocations
  version: string
}

/** The storage port: one JSON record per key, with compare-and-set writes. */
export interface RevocationStore {
  /** The record alone (the token route's one read per request). */
  read(key: string): Promise<UserRevocations | undefined>
  /** The record and its version, for a write that follows. */
  get(key: string): Promise<Versioned | undefined>
  /** Writes if the stored version is still `version` (or, with `undefined`, if nothing is stored); false if not. */
  put(key: string, record: UserRevocations, version: string | undefined): Promise<boolean>
}

/** The session a token request or a revoke is about. */
interface SessionRef {
  /** The user's deny-list key (see ./keys.ts). */
  userKey: string
  /** The session's revocation key. */
  sessionKey: string
  /** The app JWT's `iat`, in ms; without one, a user-wide revocation refuses the session while it is kept. */
  issuedAt?: number
}

export type Revoked = 'session' | 'user'

export interface DenyList {
  /** Why the session is refused, or undefined when it is not. */
  check(session: SessionRef): Promise<Revoked | undefined>
  revokeSession(userKey: string, sessionKey: string, keepUntil: number): Promise<void>
  revokeUser(userKey: string, before: number, keepUntil: number): Promise<void>
}

/** Thrown when the store cannot be read or written (the caller answers 503, or refuses to sign). */
export class RevocationStoreError extends Error {
  override readonly name = 'RevocationStoreError'
}

const MAX_WRITE_ATTEMPTS = 5

/** The deny-list over `store`, on `now`'s clock. */
export function createDenyList(store: RevocationStore, { now = Date.now }: { now?: () => number } = {}): DenyList {
  const reading = async <T>(run: () => Promise<T>) => {
    try {
      return await run()
    } catch (error) {
      throw new RevocationStoreError('the revocation store could not be read', { cause: error })
    }
  }

  /** Read, change, write if unchanged meanwhile; dropping what has expired on the way. */
  async function update(userKey: string, change: (record: UserRevocations) => void): Promise<void> {
    for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
      const current = await reading(() => store.get(userKey))
      const record = prune(current?.record ?? { sessions: {} }, now())
      change(record)
      let written: boolean
      try {
        written = await store.put(userKey, record, current?.version)
      } catch (error) {
        throw new RevocationStoreError('the revocation store could not be written', { cause: error })
      }
      if (written) return
    }
    throw new RevocationStoreError('the revocation record kept changing under concurrent writes')
  }

  return {
    async check({ userKey, sessionKey, issuedAt }) {
      const stored = await reading(() => store.read(userKey))
      if (!stored) return undefined
      const time = now()
      const { sessions = {}, revokedBefore, revokedBeforeUntil = 0 } = stored
      if ((sessions[sessionKey] ?? 0) > time) return 'session'
      // The app JWT's `iat` has whole seconds: a session started in the second of a revoke counts as before it.
      if (revokedBefore !== undefined && revokedBeforeUntil > time && (issuedAt === undefined || issuedAt < revokedBefore)) return 'user'
      return undefined
    },
    revokeSession: (userKey, sessionKey, keepUntil) =>
      update(userKey, (record) => {
        record.sessions[sessionKey] = Math.max(record.sessions[sessionKey] ?? 0, keepUntil)
      }),
    revokeUser: (userKey, before, keepUntil) =>
      update(userKey, (record) => {
        record.revokedBefore = Math.max(record.revokedBefore ?? 0, before)
        record.revokedBeforeUntil = Math.max(record.revokedBeforeUntil ?? 0, keepUntil)
      }),
  }
}

function prune(record: UserRevocations, time: number): UserRevocations {
  const sessions = Object.fromEntries(Object.entries(record.sessions ?? {}).filter(([, until]) => until > time))
  const keepUser = record.revokedBefore !== undefined && (record.revokedBeforeUntil ?? 0) > time
  return { sessions, ...(keepUser && { revokedBefore: record.revokedBefore, revokedBeforeUntil: record.revokedBeforeUntil }) }
}

/** The embedded store: this process's memory (local development, tests and `npm start`). */
export function createMemoryRevocationStore(): RevocationStore {
  const records = new Map<string, Versioned>()
  let versions = 0
  return {
    async read(key) {
      const stored = records.get(key)
      return stored && structuredClone(stored.record)
    },
    async get(key) {
      const stored = records.get(key)
      return stored && { record: structuredClone(stored.record), version: stored.version }
    },
    async put(key, record, version) {
      if (records.get(key)?.version !== version) return false
      records.set(key, { record: structuredClone(record), version: String(++versions) })
      return true
    },
  }
}
