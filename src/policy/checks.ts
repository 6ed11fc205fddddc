/**
 * The checks a policy gets when it is defined (`defineChannelPolicy`): every reason a declaration could give one user
 * another user's channels, or could not be derived at all, each said in one line. See the README, "Writing a channel
 * policy", for the list.
 */
import { alphabetMatcher, type CompiledKind, compileKinds, declaredAlphabet, type Part, segmentVariable } from './compile.ts'
import type { BrowserOperation, KindDeclaration, PolicyDeclaration } from './types.ts'

const BROWSER_OPERATIONS: readonly BrowserOperation[] = ['subscribe', 'history', 'presence', 'publish']
/** Characters no segment may hold: Ably's separator and wildcard, its qualifier brackets, list and space characters, controls, non-ASCII. */
const FORBIDDEN_PROBES = [':', '*', '[', ']', ',', ' ', '\t', '\n', '\r', '\u0000', '\u007f', '\u00a0', 'é', '\u0430', '\u2028']
const LITERAL = /^[A-Za-z0-9_-]{1,64}$/
const SEGMENT_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/
const EVENT_NAME = /^[A-Za-z0-9_.-]{1,64}$/

/**
 * Every problem of a declaration; none means it is safe to derive. The kinds come back compiled once the declaration
 * itself is sound (the overlap check needs them), so the policy is derived from that one compilation.
 */
export function policyProblems(declaration: PolicyDeclaration): { problems: string[]; compiled?: CompiledKind[] } {
  const problems: string[] = []
  const checkedAlphabets = new Set<string>()
  // Each alphabet once: a bad one is said once, however many kinds use it.
  const alphabetOk = (segment: string, bound: boolean): boolean => {
    const key = `${segment} ${bound}`
    if (checkedAlphabets.has(key)) return true
    checkedAlphabets.add(key)
    const alphabet = declaredAlphabet(declaration, segment, bound)
    const { maxLength } = alphabet
    if (!Number.isInteger(maxLength) || maxLength < 1 || maxLength > 256) {
      problems.push(`{${segment}}: maxLength must be 1-256`)
      return false
    }
    let single: RegExp
    try {
      alphabetMatcher(alphabet)
      single = new RegExp(`^[${alphabet.alphabet}]$`)
    } catch {
      problems.push(`{${segment}}: alphabet is not a regex character class body`)
      return false
    }
    const allowed = FORBIDDEN_PROBES.filter((probe) => single.test(probe))
    if (allowed.length > 0) {
      problems.push(
        `{${segment}}: the alphabet allows ${allowed.map((char) => JSON.stringify(char)).join(', ')}; with ':' or '*' a segment could name or match another user's channel under Ably's wildcard rules`,
      )
      return false
    }
    return true
  }

  const kindNames = Object.keys(declaration.kinds)
  if (kindNames.length === 0) problems.push('a policy needs at least one channel kind')
  for (const name of kindNames) {
    const kind = declaration.kinds[name] as KindDeclaration
    const at = `kind "${name}"`
    if (name === 'kind' || !LITERAL.test(name)) problems.push(`${at}: name must be 1-64 of [A-Za-z0-9_-], not "kind"`)
    const raws = kind.pattern.split(':')
    const seen = new Set<string>()
    for (const raw of raws) {
      const variable = segmentVariable(raw)
      if (variable === undefined) {
        if (!LITERAL.test(raw)) problems.push(`${at}: "${raw}" is neither a fixed part of [A-Za-z0-9_-] nor a {segment}`)
        continue
      }
      if (!SEGMENT_NAME.test(variable) || variable === 'kind') problems.push(`${at}: {${variable}} is not an identifier other than "kind"`)
      if (seen.has(variable)) problems.push(`${at}: {${variable}} appears twice`)
      seen.add(variable)
      alphabetOk(variable, variable === (kind.owner ?? kind.member))
    }
    if (segmentVariable(raws[0] ?? '') !== undefined) problems.push(`${at}: the first part must be fixed (the Ably namespace)`)
    if (kind.owner !== undefined && kind.member !== undefined) problems.push(`${at}: owner or member, not both`)
    const by = kind.owner !== undefined ? 'owner' : kind.member !== undefined ? 'member' : undefined
    const boundName = kind.owner ?? kind.member
    let bound = false
    if (by && boundName !== undefined) {
      const index = raws.findIndex((raw) => segmentVariable(raw) === boundName)
      if (index < 0) problems.push(`${at}: the ${by} segment {${boundName}} is not in the pattern`)
      else {
        bound = true
        const free = raws
          .slice(0, index)
          .map(segmentVariable)
          .find((variable) => variable !== undefined)
        if (free !== undefined) {
          problems.push(
            `${at}: {${free}} comes before the ${by} segment {${boundName}}: Ably wildcards only end a resource, so the capability would span the ${by} segment and cover others' channels`,
          )
        }
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
    for (const event of eventNames) {
      if (!EVENT_NAME.test(event)) problems.push(`${at}: event "${event}" is not 1-64 of [A-Za-z0-9_.-]`)
      const declared = kind.events[event]
      if (typeof declared?.data !== 'function') problems.push(`${at}: event "${event}" needs data: (z) => schema`)
      for (const [path, segment] of Object.entries(declared?.ids ?? {}))
        if (!seen.has(segment)) problems.push(`${at}: event "${event}" ties ${path} to {${segment}}, which is not in the pattern`)
    }
  }
  // Overlap needs every part compiled: only a declaration with no other problem gets that far.
  if (problems.length > 0) return { problems }
  const compiled = compileKinds(declaration)
  for (let i = 0; i < compiled.length; i++) {
    for (let j = i + 1; j < compiled.length; j++) {
      const a = compiled[i] as CompiledKind
      const b = compiled[j] as CompiledKind
      if (covers(a, b) || covers(b, a)) {
        problems.push(`kinds "${a.name}" and "${b.name}" overlap: they can name one channel, or one's capability wildcard covers the other's channels`)
      }
    }
  }
  return { problems, compiled }
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
          ? !(y as { regex: { test(value: string): boolean } }).regex.test(x.literal)
          : 'literal' in y && !x.regex.test(y.literal)
    )
      return false
  }
  return true
}
