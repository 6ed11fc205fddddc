/**
 * A policy's credential facet: the least Ably capability for a caller, from the compiled kinds. All the token route
 * needs of a policy, so an edge token entry carries this and not the parser, the access rules or their errors
 * (`./derive.ts`, which builds the whole policy on it).
 */
import { channelSegment, type PolicyCaller } from './caller.ts'
import { type CompiledKind, compileKinds } from './compile.ts'
import type { Capability, ChannelsDeclaration, CredentialPolicy } from './types.ts'

/** The caller's memberships as channel segments; a membership that names no channel grants nothing. */
export function memberSegments(caller: PolicyCaller): Set<string> {
  const segments = new Set<string>()
  for (const membership of caller.memberships) {
    try {
      segments.add(channelSegment(membership))
    } catch {
      // Not an accepted id: no channel has it.
    }
  }
  return segments
}

/** The least capability for a caller: its owned and member channels and the public ones, with each kind's browser operations. */
export function capabilityOf(compiled: readonly CompiledKind[]): (caller: PolicyCaller) => Capability {
  return (caller) => {
    const capability: Capability = {}
    for (const kind of compiled) {
      if (kind.operations.length === 0) continue
      const values = kind.bound?.by === 'owner' ? [caller.segment] : kind.bound ? [...memberSegments(caller)] : [undefined]
      for (const value of values) {
        const resource = resourceOf(kind, value)
        if (resource !== undefined) capability[resource] = [...kind.operations]
      }
    }
    return capability
  }
}

/**
 * The credential facet of a declaration, compiled unchecked: for the built-in policies, which the suite checks (a
 * site's policy goes through `defineChannelPolicy`, and any `ChannelPolicy` is a `CredentialPolicy`).
 */
export function credentialsOf(declaration: ChannelsDeclaration): CredentialPolicy {
  return { capability: capabilityOf(compileKinds(declaration)) }
}

/**
 * The one resource covering a kind's channels for a bound value (or every channel of a public kind): the fixed parts
 * and the bound value, then `:*` when free segments follow (Ably's trailing wildcard matches one or more segments).
 * `undefined` when the value does not fit the bound segment's alphabet (that caller has no such channel).
 */
export function resourceOf(kind: CompiledKind, value: string | undefined): string | undefined {
  const fixed: string[] = []
  for (const [index, part] of kind.parts.entries()) {
    if ('literal' in part) {
      fixed.push(part.literal)
      continue
    }
    if (kind.bound && index === kind.bound.index) {
      if (value === undefined || !part.regex.test(value)) return undefined
      fixed.push(value)
      continue
    }
    return [...fixed, '*'].join(':')
  }
  return fixed.join(':')
}
