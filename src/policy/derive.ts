/**
 * A policy derived from its compiled kinds: the parser and formatter, the capability, who may publish and read, and the
 * errors that say what would have been valid. `defineChannelPolicy` checks a declaration before it gets here.
 */
import { AppError } from '../errors/index.ts'
import type { PolicyCaller } from './caller.ts'
import { capabilityOf, memberSegments, resourceOf } from './capability.ts'
import { type CompiledKind, DEFAULT_SEGMENT } from './compile.ts'
import type { ChannelPolicy, PolicyDeclaration, Principal } from './types.ts'

/** Derives the policy of `declaration` from its compiled kinds. */
export function derive<D extends PolicyDeclaration>(declaration: D, compiled: readonly CompiledKind[]): ChannelPolicy<D> {
  const maxNameLength = declaration.maxNameLength ?? 200
  const byName = new Map(compiled.map((kind) => [kind.name, kind]))
  const kindOf = (name: string): CompiledKind => {
    const kind = byName.get(name)
    if (!kind) throw new TypeError(`Unknown channel kind: ${JSON.stringify(name)}`)
    return kind
  }
  const forms = Object.fromEntries(compiled.map((kind) => [kind.name, kind.pattern]))
  const events = Object.fromEntries(compiled.map((kind) => [kind.name, kind.events]))
  const namespaces = [...new Set(compiled.map((kind) => (kind.parts[0] as { literal: string }).literal))]
  // The default alphabet is said as `idPattern`; a segment with its own, by name in `segmentPatterns`.
  const { alphabet, maxLength } = declaration.segment ?? DEFAULT_SEGMENT
  const idPattern = `^[${alphabet}]{1,${maxLength}}$`
  const segmentPatterns = Object.fromEntries(
    compiled.flatMap((kind) => kind.parts.flatMap((part) => ('source' in part && part.source !== idPattern ? [[part.segment, part.source]] : []))),
  )
  const alphabetHelp = { idPattern, ...(Object.keys(segmentPatterns).length > 0 && { segmentPatterns }) }

  /** Whether the caller's credential reaches `channel` (owner, member or public), by its bound segment. */
  const reaches = (kind: CompiledKind, channel: Record<string, string>, caller: PolicyCaller) => {
    if (!kind.bound) return true
    const value = channel[kind.bound.segment]
    return kind.bound.by === 'owner' ? value === caller.segment : value !== undefined && memberSegments(caller).has(value)
  }

  const mayPublish = (principal: Principal, channel: Record<string, string> & { kind: string }): boolean => {
    const kind = kindOf(channel.kind)
    if (principal.kind === 'server') return kind.publishers.has('server')
    if (principal.admin && kind.publishers.has('admins')) return true
    if (principal.roles.some((role) => kind.publishers.has(`role:${role}`))) return true
    if (!kind.bound || !kind.publishers.has(kind.bound.by === 'owner' ? 'owner' : 'members')) return false
    return reaches(kind, channel, principal)
  }

  const presenceKind = compiled.find(
    (kind) => kind.bound?.by === 'owner' && kind.operations.includes('presence') && kind.parts.filter((part) => 'segment' in part).length === 1,
  )

  const policy: ChannelPolicy = {
    declaration,
    kinds: compiled.map((kind) => kind.name),
    forms,
    events,
    namespaces,
    parse(name) {
      if (typeof name !== 'string' || name.length > maxNameLength) return undefined
      const values = name.split(':')
      for (const kind of compiled) {
        if (kind.parts.length !== values.length) continue
        const channel: Record<string, string> = { kind: kind.name }
        const matches = kind.parts.every((part, index) => {
          const value = values[index] as string
          if ('literal' in part) return part.literal === value
          channel[part.segment] = value
          return part.regex.test(value)
        })
        if (matches) return channel as never
      }
      return undefined
    },
    format(kindName, segments) {
      const kind = kindOf(kindName)
      const values = segments as Record<string, unknown>
      return kind.parts
        .map((part) => {
          if ('literal' in part) return part.literal
          const value = values[part.segment]
          if (typeof value !== 'string' || !part.regex.test(value))
            throw new TypeError(`Invalid ${part.segment} for a ${kind.name} channel: ${JSON.stringify(value)}`)
          return value
        })
        .join(':')
    },
    acceptsEvent: (kind, event): event is string => typeof event === 'string' && kindOf(kind).events.includes(event),
    idRules: (kind, event) => kindOf(kind).ids[event] ?? [],
    boundSegment: (kind) => kindOf(kind).bound?.segment,
    presenceChannel: (segment) => (presenceKind ? resourceOf(presenceKind, segment) : undefined),
    presenceKind: presenceKind?.name,
    capability: capabilityOf(compiled),
    ownerOf(channel) {
      const kind = kindOf(channel.kind)
      return kind.bound ? ((channel as Record<string, string>)[kind.bound.segment] ?? '') : ''
    },
    mayPublish: mayPublish as ChannelPolicy['mayPublish'],
    mayRead(principal, channel) {
      if (principal.kind === 'server') return true
      const kind = kindOf(channel.kind)
      if (kind.operations.includes('history') && reaches(kind, channel as Record<string, string>, principal)) return true
      return mayPublish(principal, channel as Record<string, string> & { kind: string })
    },
    invalidChannel: (details) => new AppError('invalid_channel', { details: { ...details, acceptedChannels: Object.values(forms), ...alphabetHelp } }),
    invalidEvent: (details) =>
      new AppError('invalid_event', { details: { ...details, acceptedEvents: Object.fromEntries(compiled.map((kind) => [kind.pattern, kind.events])) } }),
  }
  return policy as unknown as ChannelPolicy<D>
}
