/**
 * The caller contract (issue 12) as the policy reads it. Until `src/auth/caller.ts` is in main this is a local copy of
 * its interface; the policy needs only these fields, and `channelSegment` to encode memberships.
 */
export interface PolicyCaller {
  readonly userId: string
  /** channelSegment(userId): the one safe channel segment for this user. */
  readonly segment: string
  readonly roles: readonly string[]
  /** Raw membership ids (e.g. team ids); encoded with `channelSegment` before they meet a channel name. */
  readonly memberships: readonly string[]
}

const PLAIN = /^[A-Za-z0-9_-]{1,64}$/

/** Stand-in for the caller contract's `channelSegment` for plain ids (replaced by the real one once it is in main). */
export function channelSegment(id: string): string {
  if (!PLAIN.test(id)) throw new TypeError(`Not a plain id: ${JSON.stringify(String(id).slice(0, 80))}`)
  return id
}

/** The policy's view of today's verified user (`userId`, one `role`): its segment is its id, and it has no memberships. */
export function callerOfUser(user: { readonly userId: string; readonly role?: string | undefined }): PolicyCaller {
  return { userId: user.userId, segment: user.userId, roles: user.role === undefined ? [] : [user.role], memberships: [] }
}
