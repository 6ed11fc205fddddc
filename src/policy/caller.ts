/**
 * The caller contract (`src/auth/caller.ts`) as the policy reads it: who the verified caller is, and the one segment
 * encoding (`channelSegment`, from `src/channels/segment.ts`, which has no jose and so serves the browser too).
 */
import type { Caller } from '../auth/caller.ts'

export { channelSegment, isAcceptedId } from '../channels/segment.ts'

/** What the policy needs of a caller: its id, its segment, its roles and its raw memberships (encoded with `channelSegment`). */
export type PolicyCaller = Pick<Caller, 'userId' | 'segment' | 'roles' | 'memberships'>
