/**
 * The built-in policies' own way in (the SMS inbox): derived without the checks, which the test suite runs on them
 * instead (tests/policy/policy.test.ts: `defineChannelPolicy` accepts each), so an edge isolate neither carries the
 * checks nor re-runs them at every cold start. Not part of the package: a site's policy goes through `defineChannelPolicy`.
 */
import { compileKinds } from './compile.ts'
import { derive } from './derive.ts'
import type { ChannelPolicy, ChannelsDeclaration, ChannelsPolicy, EventsFor, PolicyDeclaration, WithEvents } from './types.ts'

/** A built-in policy, derived unchecked (see above). */
export function builtInPolicy<const D extends PolicyDeclaration>(declaration: D): ChannelPolicy<D> {
  return derive(declaration, compileKinds(declaration))
}

/**
 * A built-in policy of channels alone (`builtInPolicy` without events): what the app's own routes need, so an edge
 * entry never carries the payload schemas' code. Its declaration is checked by the suite with its events.
 */
export function builtInChannels<const C extends ChannelsDeclaration>(declaration: C): ChannelsPolicy {
  return derive(declaration as unknown as PolicyDeclaration, compileKinds(declaration))
}

/** A channels declaration with each kind's events added: one policy declaration, each fact written once. */
export function withEvents<const C extends ChannelsDeclaration, const E extends EventsFor<C>>(channels: C, events: E): WithEvents<C, E> {
  const kinds = Object.fromEntries(Object.entries(channels.kinds).map(([name, kind]) => [name, { ...kind, events: events[name as keyof E] }]))
  return { ...channels, kinds } as unknown as WithEvents<C, E>
}
