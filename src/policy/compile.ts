/**
 * A policy declaration compiled into what its derivations run on: each kind's parts (fixed, or a segment with its
 * matcher), its owner or member segment, and its browser operations. Compiling checks nothing: `./checks.ts` refuses an
 * unsafe declaration first (`defineChannelPolicy`), and the built-in policies are checked by the test suite.
 */
import { SEGMENT_PATTERN } from '../channels/segment.ts'
import type { ChannelKindDeclaration, ChannelsDeclaration, KindDeclaration, PolicyDeclaration, SegmentAlphabet } from './types.ts'

export const DEFAULT_SEGMENT: SegmentAlphabet = { alphabet: 'A-Za-z0-9_-', maxLength: 64 }
/** An owner or member segment by default: what `channelSegment` produces (a plain id, or its `~` forms). */
export const BOUND_SEGMENT: SegmentAlphabet = { alphabet: 'A-Za-z0-9_~-', maxLength: 64, pattern: SEGMENT_PATTERN }

/** What a segment's value must match. */
export type Matcher = { test(value: string): boolean }
export type Part = { readonly literal: string } | { readonly segment: string; readonly regex: Matcher; readonly source: string }

export interface CompiledKind {
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

/** The variable of a `{segment}` part of a pattern, or `undefined` for a fixed part. */
export const segmentVariable = (raw: string): string | undefined => /^\{(.*)\}$/.exec(raw)?.[1]

/** The alphabet a segment is declared with: its own, else the bound default (an owner or member segment), else the policy's. */
export function declaredAlphabet(declaration: PolicyDeclaration | ChannelsDeclaration, segment: string, bound: boolean): SegmentAlphabet {
  return declaration.segments?.[segment] ?? (bound ? BOUND_SEGMENT : (declaration.segment ?? DEFAULT_SEGMENT))
}

/** The matcher of an alphabet, and the pattern an error states for it. */
export function alphabetMatcher({ alphabet, maxLength, pattern }: SegmentAlphabet): { regex: Matcher; source: string } {
  const source = `^[${alphabet}]{1,${maxLength}}$`
  const regex = new RegExp(source)
  return { regex: pattern ? { test: (value: string) => regex.test(value) && pattern.test(value) } : regex, source: pattern ? pattern.source : source }
}

/** Compiles every kind of a declaration, in declaration order. */
export function compileKinds(declaration: PolicyDeclaration | ChannelsDeclaration): CompiledKind[] {
  return Object.entries(declaration.kinds).map(([name, kind]: [string, ChannelKindDeclaration & Partial<Pick<KindDeclaration, 'events'>>]) => {
    const events = kind.events ?? {}
    const boundName = kind.owner ?? kind.member
    const parts: Part[] = kind.pattern.split(':').map((raw) => {
      const variable = segmentVariable(raw)
      return variable === undefined
        ? { literal: raw }
        : { segment: variable, ...alphabetMatcher(declaredAlphabet(declaration, variable, variable === boundName)) }
    })
    const by = kind.owner !== undefined ? 'owner' : kind.member !== undefined ? 'member' : undefined
    const index = parts.findIndex((part) => 'segment' in part && part.segment === boundName)
    return {
      name,
      pattern: kind.pattern,
      parts,
      bound: by && boundName !== undefined && index >= 0 ? { by, index, segment: boundName } : undefined,
      operations: [...new Set(kind.browser)].sort(),
      publishers: new Set(kind.publishers),
      events: Object.keys(events),
      ids: Object.fromEntries(Object.entries(events).map(([event, declared]) => [event, Object.entries(declared.ids ?? {})])),
    }
  })
}
