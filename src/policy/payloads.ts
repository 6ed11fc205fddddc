/**
 * A policy's payload checks, on Node only (the gateway and the server helpers): each event's zod schema, built once on
 * first use from the policy's `data: (z) => ...`, then the rules tying payload ids to the channel's segments.
 */
import { z } from 'zod'
import { channelSegment } from './caller.ts'
import type { ChannelPolicy, ParsedChannel, PolicyDeclaration } from './index.ts'

/** Where a payload went wrong: the field path and zod's message, never the offending value. */
export interface DataIssue {
  path: string
  message: string
}

export type DataResult = { ok: true; data: Record<string, unknown> } | { ok: false; issues: DataIssue[] }

export type PayloadCheck<D extends PolicyDeclaration = PolicyDeclaration> = (channel: ParsedChannel<D>, eventName: string, data: unknown) => DataResult

/** Parses an event's `data` on a channel (the event must be one the kind accepts), then checks its ids against the channel. */
export function payloadCheck<D extends PolicyDeclaration>(policy: ChannelPolicy<D>): PayloadCheck<D> {
  const schemas = new Map<string, z.ZodType>()
  const schemaOf = (kind: string, event: string): z.ZodType | undefined => {
    const key = `${kind}\u0000${event}`
    const known = schemas.get(key)
    if (known) return known
    const events: Record<string, { data: (zod: typeof z) => z.ZodType }> | undefined = policy.declaration.kinds[kind]?.events
    if (!events || !Object.hasOwn(events, event)) return undefined
    const schema = (events[event] as { data: (zod: typeof z) => z.ZodType }).data(z)
    schemas.set(key, schema)
    return schema
  }

  return (channel, eventName, data) => {
    const schema = schemaOf(channel.kind, eventName)
    if (!schema) return { ok: false, issues: [{ path: '', message: `No schema for event "${eventName}" on ${channel.kind} channels` }] }
    const result = schema.safeParse(data)
    if (!result.success) {
      return { ok: false, issues: result.error.issues.slice(0, 10).map((issue) => ({ path: issue.path.join('.'), message: issue.message })) }
    }
    const parsed = result.data as Record<string, unknown>
    const segments = channel as unknown as Record<string, string>
    const bound = policy.boundSegment(channel.kind)
    const issues = policy
      .idRules(channel.kind, eventName)
      .filter(([path, segment]) => {
        const actual = valueAt(parsed, path)
        // An owner or member segment holds the id encoded: a payload's raw id names it through its segment.
        return actual !== undefined && (segment === bound ? asSegment(actual) : actual) !== segments[segment]
      })
      .map(([path, segment]) => ({ path, message: `Does not match the channel's ${segment}` }))
    return issues.length > 0 ? { ok: false, issues } : { ok: true, data: parsed }
  }
}

function asSegment(value: unknown): unknown {
  try {
    return typeof value === 'string' ? channelSegment(value) : value
  } catch {
    return value
  }
}

function valueAt(value: unknown, path: string): unknown {
  let current = value
  for (const key of path.split('.')) {
    if (typeof current !== 'object' || current === null || !Object.hasOwn(current, key)) return undefined
    current = (current as Record<string, unknown>)[key]
  }
  return current
}

/** Every event's schema, built now, by kind then event (for documentation, tests and `z.infer`). */
export function payloadSchemas<D extends PolicyDeclaration>(policy: ChannelPolicy<D>): PayloadSchemas<D> {
  return Object.fromEntries(
    Object.entries(policy.declaration.kinds).map(([kind, { events }]) => [
      kind,
      Object.fromEntries(Object.entries(events).map(([event, { data }]) => [event, data(z)])),
    ]),
  ) as PayloadSchemas<D>
}

export type PayloadSchemas<D extends PolicyDeclaration> = {
  readonly [K in keyof D['kinds']]: { readonly [E in keyof D['kinds'][K]['events']]: ReturnType<D['kinds'][K]['events'][E]['data']> }
}
