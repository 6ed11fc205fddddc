/**
 * The caller contract (`src/auth/caller.ts`) as the policy reads it: who the verified caller is, and the one segment
 * encoding (`channelSegment`, from `src/channels/segment.ts`, which has no jose and so serves the browser too). The
 * fields are restated rather than imported, so the browser client never reaches into `src/auth`; a `Caller` is one.
 */
export { channelSegment, isAcceptedId } from '../channels/segment.ts'

/** What the policy needs of a caller. */
export interface PolicyCaller {
  /** The provider's user id as it is (Ably clientId). */
  readonly userId: string
  /** channelSegment(userId): the one safe channel segment for this user. */
  readonly segment: string
  /** Role names from the configured role claim. */
  readonly roles: readonly string[]
  /** Raw membership ids from the configured membership claim; encoded with `channelSegment` before they meet a channel name. */
  readonly memberships: readonly string[]
}
