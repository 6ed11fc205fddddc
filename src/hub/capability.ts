/**
 * Ably capabilities: parsing, resource matching and intersection, following Ably's wildcard rules
 * (https://ably.com/docs/auth/capabilities). Pure functions, no I/O.
 */
import { HubError } from './errors.ts'

/** Resource pattern → operations, e.g. `{ "sms:alice:*": ["subscribe", "history"] }`. */
export type Capability = Record<string, string[]>

export const OPERATIONS = [
  'publish',
  'subscribe',
  'presence',
  'history',
  'stats',
  'channel-metadata',
  'push-subscribe',
  'push-admin',
  'privileged-headers',
  'object-subscribe',
  'object-publish',
  'annotation-subscribe',
  'annotation-publish',
  'message-update-own',
  'message-update-any',
  'message-delete-own',
  'message-delete-any',
] as const

export type Operation = (typeof OPERATIONS)[number]

const KNOWN_OPERATIONS = new Set<string>([...OPERATIONS, '*'])

/** Ably's default key capability. */
export const ALL: Capability = { '*': ['*'] }

/** Validates a capability given as JSON text or an object; anything malformed is a 40000. */
export function parseCapability(input: unknown): Capability {
  let value = input
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input)
    } catch (error) {
      throw new HubError(40000, 'Capability is not valid JSON', 400, { cause: error })
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HubError(40000, 'Capability must be a JSON object', 400)
  }
  const entries = Object.entries(value).map(([resource, operations]): [string, string[]] => {
    if (resource === '' || !Array.isArray(operations) || operations.length === 0) {
      throw new HubError(40000, 'Capability resources need a non-empty list of operations', 400)
    }
    for (const operation of operations) {
      if (typeof operation !== 'string' || !KNOWN_OPERATIONS.has(operation)) {
        throw new HubError(40000, 'Capability names an unknown operation', 400)
      }
    }
    if (operations.includes('*') && operations.length > 1) {
      throw new HubError(40000, 'Capability operation "*" cannot be listed with other operations', 400)
    }
    return [resource, [...new Set(operations as string[])].sort()]
  })
  // fromEntries defines own properties, so a resource named "__proto__" stays data.
  return Object.fromEntries(entries)
}

/** The canonical JSON text of a capability: resources and operations sorted, no spaces. */
export function canonicalCapability(capability: Capability): string {
  const resources = Object.keys(capability).sort()
  return JSON.stringify(Object.fromEntries(resources.map((resource) => [resource, [...(capability[resource] ?? [])].sort()])))
}

function splitQualifier(name: string): [qualifier: string | undefined, rest: string] {
  const match = /^\[([^\]]*)\](.*)$/s.exec(name)
  return match ? [match[1], match[2] ?? ''] : [undefined, name]
}

/**
 * Whether resource `pattern` covers channel `name`. A `*` segment matches exactly one `:`-separated
 * segment; a trailing `*` matches one or more; `*` alone matches every unqualified name. Other
 * characters are literal (`foo*` only matches `foo*`). A `[qualifier]` prefix must match exactly,
 * except `[*]` which matches any qualifier or none.
 */
export function matchesResource(pattern: string, name: string): boolean {
  const [patternQualifier, patternRest] = splitQualifier(pattern)
  const [nameQualifier, nameRest] = splitQualifier(name)
  if (patternQualifier !== '*' && patternQualifier !== nameQualifier) return false
  const patternSegments = patternRest.split(':')
  const nameSegments = nameRest.split(':')
  const last = patternSegments.length - 1
  for (let index = 0; index <= last; index++) {
    const segment = patternSegments[index]
    if (segment === '*' && index === last) return nameSegments.length > last
    if (index >= nameSegments.length) return false
    if (segment !== '*' && segment !== nameSegments[index]) return false
  }
  return nameSegments.length === patternSegments.length
}

/** The operations `capability` grants on channel `name` (the union over every matching resource). */
export function operationsOn(capability: Capability, name: string): Set<string> {
  const granted = new Set<string>()
  for (const [resource, operations] of Object.entries(capability)) {
    if (!matchesResource(resource, name)) continue
    for (const operation of operations) {
      if (operation === '*') return new Set(OPERATIONS)
      granted.add(operation)
    }
  }
  return granted
}

/** Whether `capability` grants `operation` on channel `name`. */
export function permits(capability: Capability, name: string, operation: Operation): boolean {
  return operationsOn(capability, name).has(operation)
}

/** Throws 40160 unless `capability` grants `operation` on channel `name`. */
export function assertPermitted(capability: Capability, name: string, operation: Operation): void {
  if (!permits(capability, name, operation)) throw new HubError(40160, `Capability does not permit ${operation} here`, 401)
}

function intersectOperations(a: string[], b: string[]): string[] {
  if (a.includes('*')) return [...b]
  if (b.includes('*')) return [...a]
  return a.filter((operation) => b.includes(operation))
}

/**
 * The capability a token may hold when it asks for `requested` under a key holding `granted`:
 * for each pair of resources where one covers the other, the narrower resource with the common
 * operations. Never grants anything that either side does not grant.
 */
export function intersectCapabilities(requested: Capability, granted: Capability): Capability {
  const result = new Map<string, Set<string>>()
  const add = (resource: string, operations: string[]) => {
    if (operations.length === 0) return
    const set = result.get(resource) ?? new Set<string>()
    for (const operation of operations) set.add(operation)
    result.set(resource, set)
  }
  for (const [requestedResource, requestedOperations] of Object.entries(requested)) {
    for (const [grantedResource, grantedOperations] of Object.entries(granted)) {
      const common = intersectOperations(requestedOperations, grantedOperations)
      if (matchesResource(grantedResource, requestedResource)) add(requestedResource, common)
      else if (matchesResource(requestedResource, grantedResource)) add(grantedResource, common)
    }
  }
  return Object.fromEntries([...result].map(([resource, operations]) => [resource, operations.has('*') ? ['*'] : [...operations].sort()]))
}

/** Whether a capability grants nothing at all. */
export function isEmptyCapability(capability: Capability): boolean {
  return Object.keys(capability).length === 0
}
