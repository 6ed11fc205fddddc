/**
 * One declarative channel policy: every channel kind an app has, written once, and everything derived from it -- the
 * parser and its error details, the least Ably capability for a caller (with Ably's wildcard rules), who may publish
 * through the gateway and read its history, the events each kind accepts, and the Ably namespaces to configure.
 *
 * This module runs everywhere (edge, browser, Node) and has no dependencies: an event's payload schema is a function
 * of zod (`data: (z) => z.strictObject(...)`) that only the Node gateway calls (`./payloads.ts`), so zod never reaches
 * the edge or browser bundles, while the client still infers each message's type from it.
 *
 * A policy is checked when it is defined: one that could give one user another user's channels is refused with a
 * `PolicyError` that says why (`./checks.ts`, and the README).
 */
import type { PolicyCaller } from './caller.ts'
import { policyProblems } from './checks.ts'

export type { PolicyCaller } from './caller.ts'
export type {
  Zod,
  BrowserOperation,
  Publisher,
  EventDeclaration,
  KindDeclaration,
  SegmentAlphabet,
  PolicyDeclaration,
  KindName,
  SegmentValues,
  ParsedChannel,
  EventName,
  EventData,
  Capability,
  Principal,
  ChannelPolicy,
  ChannelsPolicy,
  CredentialPolicy,
  ChannelKindDeclaration,
  ChannelsDeclaration,
  EventsFor,
  WithEvents,
} from './types.ts'
import { derive } from './derive.ts'
import type { PolicyDeclaration, Principal, ChannelPolicy } from './types.ts'

/** A verified caller as the gateway sees it: an admin when one of its roles is in `adminRoles`. */
export function userPrincipal(caller: PolicyCaller, adminRoles: readonly string[]): Principal {
  return { kind: 'user', ...caller, admin: caller.roles.some((role) => adminRoles.includes(role)) }
}

/** A policy that cannot be loaded, with why. */
export class PolicyError extends Error {
  override readonly name = 'PolicyError'
}

export { BOUND_SEGMENT, DEFAULT_SEGMENT } from './compile.ts'

/** Checks a declaration and derives its policy; throws `PolicyError` (saying why) for one that is not safe. */
export function defineChannelPolicy<const D extends PolicyDeclaration>(declaration: D): ChannelPolicy<D> {
  const { problems, compiled } = policyProblems(declaration)
  if (problems.length > 0 || !compiled) throw new PolicyError(`The channel policy is not safe:\n- ${problems.join('\n- ')}`)
  return derive(declaration, compiled)
}
