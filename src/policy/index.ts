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
 * `PolicyError` that says why (see `checks` below and the README).
 */
import { AppError } from '../errors/index.ts'
import { SEGMENT_PATTERN } from '../channels/segment.ts'
import { channelSegment, type PolicyCaller } from './caller.ts'

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
} from './types.ts'
import type { BrowserOperation, EventDeclaration, KindDeclaration, SegmentAlphabet, PolicyDeclaration, Capability, Principal, ChannelPolicy } from './types.ts'

/** A verified caller as the gateway sees it: an admin when one of its roles is in `adminRoles`. */
export function userPrincipal(caller: PolicyCaller, adminRoles: readonly string[]): Principal {
  return { kind: 'user', ...caller, admin: caller.roles.some((role) => adminRoles.includes(role)) }
}

/** A policy that cannot be loaded, with why. */
export class PolicyError extends Error {
  override readonly name = 'PolicyError'
}

export const DEFAULT_SEGMENT: SegmentAlphabet = { alphabet: 'A-Za-z0-9_-', maxLength: 64 }
/** An owner or member segment by default: what `channelSegment` produces (a plain id, or its `~` forms). */
export const BOUND_SEGMENT: SegmentAlphabet = { alphabet: 'A-Za-z0-9_~-', maxLength: 64, pattern: SEGMENT_PATTERN }
const BROWSER_OPERATIONS: readonly BrowserOperation[] = ['subscribe', 'history', 'presence', 'publish']
/** Characters no segment may hold: Ably's separator and wildcard, its qualifier brackets, list and space characters, controls, non-ASCII. */
const FORBIDDEN_PROBES = [':', '*', '[', ']', ',', ' ', '\t', '\n', '\r', '\u0000', '\u007f', '\u00a0', 'é', '\u0430', '\u2028']
const LITERAL = /^[A-Za-z0-9_-]{1,64}$/
const SEGMENT_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/
const EVENT_NAME = /^[A-Za-z0-9_.-]{1,64}$/

/** What a segment's value must match. */
type Matcher = { test(value: string): boolean }
type Part = { readonly literal: string } | { readonly segment: string; readonly regex: Matcher; readonly source: string }

interface CompiledKind {
  readonly name: string
  readonly pattern: string
  readonly parts: readonly Part[]
  /** Index of the owner or member segment. */
  readonly bound: { readonly by: 'owner' | 'member'; readonly index: number; readonly segment: string } | undefined
  readonly operations: readonly string[]
  readonly publishers: ReadonlySet<string>
  readonly events: readonly string[]
  readonly ids: Readonly<Record<string, readonly (readonly [path: string, segment: string])[]>>
}

/** Checks a declaration and derives its policy; throws `PolicyError` (saying why) for one that is not safe. */
export function defineChannelPolicy<const D extends PolicyDeclaration>(declaration: D): ChannelPolicy<D> {
  const problems: string[] = []
  const defaultAlphabet = declaration.segment ?? DEFAULT_SEGMENT
  const alphabets = new Map<string, { regex: Matcher; source: string }>()
  // An owner or member segment holds `channelSegment` output unless the policy says otherwise: the contract's alphabet.
  const alphabetOf = (segment: string, bound: boolean): { regex: Matcher; source: string } | undefined => {
    const key = `${segment} ${bound}`
    const known = alphabets.get(key)
    if (known) return known
    const { alphabet, maxLength, pattern } = declaration.segments?.[segment] ?? (bound ? BOUND_SEGMENT : defaultAlphabet)
    if (!Number.isInteger(maxLength) || maxLength < 1 || maxLength > 256) {
      problems.push(`{${segment}}: maxLength must be 1-256`)
      return undefined
    }
    let regex: RegExp
    const source = `^[${alphabet}]{1,${maxLength}}$`
    try {
      regex = new RegExp(source)
      new RegExp(`^[${alphabet}]$`)
    } catch {
      problems.push(`{${segment}}: alphabet is not a regex character class body`)
      return undefined
    }
    const single = new RegExp(`^[${alphabet}]$`)
    const allowed = FORBIDDEN_PROBES.filter((probe) => single.test(probe))
    if (allowed.length > 0) {
      problems.push(
        `{${segment}}: the alphabet allows ${allowed.map((char) => JSON.stringify(char)).join(', ')}; with ':' or '*' a segment could name or match another user's channel under Ably's wildcard rules`,
      )
      return undefined
    }
    const entry = { regex: pattern ? { test: (value: string) => regex.test(value) && pattern.test(value) } : regex, source: pattern ? pattern.source : source }
    alphabets.set(key, entry)
    return entry
  }

  const compiled: CompiledKind[] = []
  const kindNames = Object.keys(declaration.kinds)
  if (kindNames.length === 0) problems.push('a policy needs at least one channel kind')
  for (const name of kindNames) {
    const kind = declaration.kinds[name] as KindDeclaration
    const at = `kind "${name}"`
    if (name === 'kind' || !LITERAL.test(name)) problems.push(`${at}: name must be 1-64 of [A-Za-z0-9_-], not "kind"`)
    const parts: Part[] = []
    const seen = new Set<string>()
    for (const raw of kind.pattern.split(':')) {
      const variable = /^\{(.*)\}$/.exec(raw)?.[1]
      if (variable === undefined) {
        if (!LITERAL.test(raw)) problems.push(`${at}: "${raw}" is neither a fixed part of [A-Za-z0-9_-] nor a {segment}`)
        parts.push({ literal: raw })
        continue
      }
      if (!SEGMENT_NAME.test(variable) || variable === 'kind') problems.push(`${at}: {${variable}} is not an identifier other than "kind"`)
      if (seen.has(variable)) problems.push(`${at}: {${variable}} appears twice`)
      seen.add(variable)
      const alphabet = alphabetOf(variable, variable === (kind.owner ?? kind.member))
      if (alphabet) parts.push({ segment: variable, ...alphabet })
    }
    if (!parts[0] || !('literal' in parts[0])) problems.push(`${at}: the first part must be fixed (the Ably namespace)`)
    if (kind.owner !== undefined && kind.member !== undefined) problems.push(`${at}: owner or member, not both`)
    const by = kind.owner !== undefined ? 'owner' : kind.member !== undefined ? 'member' : undefined
    const boundName = kind.owner ?? kind.member
    let bound: CompiledKind['bound']
    if (by && boundName !== undefined) {
      const index = parts.findIndex((part) => 'segment' in part && part.segment === boundName)
      if (index < 0) problems.push(`${at}: the ${by} segment {${boundName}} is not in the pattern`)
      else {
        const free = parts.slice(0, index).find((part): part is Extract<Part, { segment: string }> => 'segment' in part)
        if (free) {
          problems.push(
            `${at}: {${free.segment}} comes before the ${by} segment {${boundName}}: Ably wildcards only end a resource, so the capability would span the ${by} segment and cover others' channels`,
          )
        }
        bound = { by, index, segment: boundName }
      }
    }
    for (const op of kind.browser) if (!BROWSER_OPERATIONS.includes(op)) problems.push(`${at}: "${op}" is not one of ${BROWSER_OPERATIONS.join(', ')}`)
    if (kind.browser.includes('publish') && kind.browserPublish !== 'bypasses-gateway') {
      problems.push(`${at}: browser publish needs browserPublish: 'bypasses-gateway' (such messages skip the gateway's validation, store, history and outbox)`)
    }
    if (!bound && (kind.browser.includes('publish') || kind.browser.includes('presence'))) {
      problems.push(`${at}: a public kind is read-only for browsers: no publish or presence`)
    }
    for (const publisher of kind.publishers) {
      const valid =
        publisher === 'admins' ||
        publisher === 'server' ||
        (publisher === 'owner' && by === 'owner') ||
        (publisher === 'members' && by === 'member') ||
        /^role:.{1,64}$/.test(publisher)
      if (!valid)
        problems.push(`${at}: publisher "${publisher}" is not owner (with an owner segment), members (with a member segment), admins, server or role:<name>`)
    }
    const eventNames = Object.keys(kind.events)
    if (eventNames.length === 0) problems.push(`${at}: declare at least one event`)
    const ids: Record<string, (readonly [string, string])[]> = {}
    for (const event of eventNames) {
      if (!EVENT_NAME.test(event)) problems.push(`${at}: event "${event}" is not 1-64 of [A-Za-z0-9_.-]`)
      const declared = kind.events[event] as EventDeclaration
      if (typeof declared.data !== 'function') problems.push(`${at}: event "${event}" needs data: (z) => schema`)
      ids[event] = Object.entries(declared.ids ?? {})
      for (const [path, segment] of ids[event])
        if (!seen.has(segment)) problems.push(`${at}: event "${event}" ties ${path} to {${segment}}, which is not in the pattern`)
    }
    compiled.push({
      name,
      pattern: kind.pattern,
      parts,
      bound,
      operations: [...new Set(kind.browser)].sort(),
      publishers: new Set(kind.publishers),
      events: eventNames,
      ids,
    })
  }
  for (let i = 0; i < compiled.length; i++) {
    for (let j = i + 1; j < compiled.length; j++) {
      const a = compiled[i] as CompiledKind
      const b = compiled[j] as CompiledKind
      if (overlap(a, b)) {
        problems.push(`kinds "${a.name}" and "${b.name}" overlap: they can name one channel, or one's capability wildcard covers the other's channels`)
      }
    }
  }
  if (problems.length > 0) throw new PolicyError(`The channel policy is not safe:\n- ${problems.join('\n- ')}`)
  return derive(declaration, compiled)
}

/** Two kinds overlap when one's capability resource (or name) can match a channel of the other. */
function overlap(a: CompiledKind, b: CompiledKind): boolean {
  return covers(a, b) || covers(b, a)
}

/**
 * Whether a resource of kind `a` (for any bound value) can match a channel of kind `b`: `a`'s parts up to its first free
 * segment agree with `b`'s, and then either `a` ends there and so does `b`, or `a` ends in a trailing wildcard, which
 * matches one or more further segments. Agreeing: equal fixed parts, or a fixed part a segment's alphabet allows, or two segments.
 */
function covers(a: CompiledKind, b: CompiledKind): boolean {
  const free = a.parts.findIndex((part, index) => 'segment' in part && index !== a.bound?.index)
  const cut = free < 0 ? a.parts.length : free
  if (free < 0 ? b.parts.length !== cut : b.parts.length <= cut) return false
  for (let index = 0; index < cut; index++) {
    const x = a.parts[index] as Part
    const y = b.parts[index] as Part
    if (
      'literal' in x && 'literal' in y
        ? x.literal !== y.literal
        : 'literal' in x
          ? !(y as { regex: Matcher }).regex.test(x.literal)
          : 'literal' in y && !x.regex.test(y.literal)
    )
      return false
  }
  return true
}

function derive<D extends PolicyDeclaration>(declaration: D, compiled: readonly CompiledKind[]): ChannelPolicy<D> {
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

  const memberSegments = (caller: PolicyCaller): Set<string> => {
    const segments = new Set<string>()
    for (const membership of caller.memberships) {
      try {
        segments.add(channelSegment(membership))
      } catch {
        // A membership that names no channel grants nothing.
      }
    }
    return segments
  }

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
    capability(caller) {
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
    },
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

/**
 * The one resource covering a kind's channels for a bound value (or every channel of a public kind): the fixed parts
 * and the bound value, then `:*` when free segments follow (Ably's trailing wildcard matches one or more segments).
 * `undefined` when the value does not fit the bound segment's alphabet (that caller has no such channel).
 */
function resourceOf(kind: CompiledKind, value: string | undefined): string | undefined {
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
