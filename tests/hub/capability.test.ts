import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  ALL,
  canonicalCapability,
  intersectCapabilities,
  matchesResource,
  OPERATIONS,
  operationsOn,
  parseCapability,
  permits,
  type Capability,
} from '../../src/hub/capability.ts'
import { HubError } from '../../src/hub/errors.ts'

const ALICE: Capability = {
  'sms:alice:*': ['subscribe', 'history', 'presence'],
  'contacts:alice': ['subscribe', 'history'],
  'notifications:alice': ['subscribe', 'history'],
}

describe('matchesResource', () => {
  it.each([
    ['*', 'foo', true],
    ['*', 'foo:bar:baz', true],
    ['*', '[meta]log', false],
    ['[*]*', '[meta]log', true],
    ['[*]*', 'plain', true],
    ['[meta]*', '[meta]log', true],
    ['[meta]*', 'log', false],
    ['[queue]q', 'q', false],
    ['foo', 'foo', true],
    ['foo', 'foobar', false],
    ['foo', 'foo:bar', false],
    ['foo*', 'foo*', true],
    ['foo*', 'foobar', false],
    ['ns:*', 'ns:a', true],
    ['ns:*', 'ns:a:b', true],
    ['ns:*', 'ns', false],
    ['ns:*', 'nsx:a', false],
    ['a:*:c', 'a:b:c', true],
    ['a:*:c', 'a:b:d', false],
    ['a:*:c', 'a:b:x:c', false],
    ['a:*:c', 'a:c', false],
    ['sms:alice:*', 'sms:alice:c1', true],
    ['sms:alice:*', 'sms:bob:c1', false],
    ['sms:alice:*', 'sms:Alice:c1', false],
    ['sms:alice:*', 'sms:alice', false],
  ])('%s vs %s → %s', (pattern, name, expected) => {
    expect(matchesResource(pattern, name)).toBe(expected)
  })
})

describe('operationsOn / permits', () => {
  it('unions the operations of every matching resource', () => {
    const capability = { 'chat:*': ['subscribe'], 'chat:room': ['publish'] }
    expect([...operationsOn(capability, 'chat:room')].sort()).toEqual(['publish', 'subscribe'])
    expect([...operationsOn(capability, 'chat:other')]).toEqual(['subscribe'])
  })

  it('expands "*" to every operation', () => {
    expect(operationsOn(ALL, 'anything').size).toBe(OPERATIONS.length)
  })

  it.each([
    ['sms:alice:c1', 'subscribe', true],
    ['sms:alice:c1', 'presence', true],
    ['sms:alice:c1', 'publish', false],
    ['sms:bob:c1', 'subscribe', false],
    ['contacts:alice', 'history', true],
    ['contacts:alice', 'presence', false],
    ['contacts:alice:x', 'subscribe', false],
    ['notifications:alice', 'subscribe', true],
  ] as const)('alice on %s may %s: %s', (channel, operation, expected) => {
    expect(permits(ALICE, channel, operation)).toBe(expected)
  })
})

describe('parseCapability', () => {
  it('accepts JSON text and sorts operations', () => {
    expect(parseCapability('{"a":["subscribe","publish"]}')).toEqual({ a: ['publish', 'subscribe'] })
  })

  it.each([
    ['not json', '{'],
    ['an array', '[]'],
    ['null', 'null'],
    ['an empty resource', '{"":["publish"]}'],
    ['an empty list', '{"a":[]}'],
    ['an unknown operation', '{"a":["fly"]}'],
    ['a non-string operation', '{"a":[1]}'],
    ['a list that is not an array', '{"a":"publish"}'],
  ])('refuses %s with 40000', (_case, input) => {
    expect(() => parseCapability(input)).toThrow(expect.objectContaining({ code: 40000 }))
  })

  it('keeps "__proto__" as plain data', () => {
    const capability = parseCapability('{"__proto__":["publish"]}')
    expect(Object.getPrototypeOf(capability)).toBe(Object.prototype)
    expect(permits(capability, '__proto__', 'publish')).toBe(true)
  })

  it('reports failures as HubError', () => {
    expect(() => parseCapability(5)).toThrow(HubError)
  })
})

describe('canonicalCapability', () => {
  it('sorts resources and operations with no spaces, as ably-js signs it', () => {
    expect(canonicalCapability({ b: ['subscribe', 'publish'], a: ['history'] })).toBe('{"a":["history"],"b":["publish","subscribe"]}')
  })
})

describe('intersectCapabilities', () => {
  it.each<[string, Capability, Capability, Capability]>([
    ['a narrower request under "*"', ALICE, ALL, parseCapability(ALICE)],
    ['a wider request under a narrow key', ALL, { 'chat:*': ['subscribe'] }, { 'chat:*': ['subscribe'] }],
    ['disjoint resources', { a: ['publish'] }, { b: ['publish'] }, {}],
    ['disjoint operations', { a: ['publish'] }, { a: ['subscribe'] }, {}],
    ['a pattern under a wider pattern', { 'sms:alice:*': ['*'] }, { 'sms:*': ['subscribe', 'history'] }, { 'sms:alice:*': ['history', 'subscribe'] }],
    ['a concrete resource under an interior wildcard', { 'a:b:c': ['publish'] }, { 'a:*:c': ['*'] }, { 'a:b:c': ['publish'] }],
  ])('%s', (_case, requested, granted, expected) => {
    expect(intersectCapabilities(requested, granted)).toEqual(expected)
  })
})

const segment = fc.stringMatching(/^[a-z0-9]{1,4}$/)
const channelName = fc.array(segment, { minLength: 1, maxLength: 4 }).map((segments) => segments.join(':'))
const resource = fc.array(fc.oneof(segment, fc.constant('*')), { minLength: 1, maxLength: 4 }).map((segments) => segments.join(':'))
// Ably refuses a list that mixes "*" with other operations, so a list is either ["*"] or named operations.
const operationList = fc.oneof(fc.subarray<string>([...OPERATIONS], { minLength: 1 }), fc.constant<string[]>(['*']))
const capability = fc.dictionary(resource, operationList, { maxKeys: 4 })
const operation = fc.constantFrom(...OPERATIONS)

describe('capability properties', () => {
  it('"*" matches every plain channel name', () => {
    fc.assert(fc.property(channelName, (name) => matchesResource('*', name)))
  })

  it('a name without wildcards matches itself and nothing longer', () => {
    fc.assert(
      fc.property(channelName, segment, (name, extra) => {
        expect(matchesResource(name, name)).toBe(true)
        expect(matchesResource(name, `${name}:${extra}`)).toBe(false)
      }),
    )
  })

  it('"prefix:*" matches every name below the prefix and never the prefix itself', () => {
    fc.assert(
      fc.property(channelName, channelName, (prefix, rest) => {
        expect(matchesResource(`${prefix}:*`, `${prefix}:${rest}`)).toBe(true)
        expect(matchesResource(`${prefix}:*`, prefix)).toBe(false)
      }),
    )
  })

  it('an intersection never grants what either side refuses', () => {
    fc.assert(
      fc.property(capability, capability, channelName, operation, (requested, granted, name, op) => {
        if (permits(intersectCapabilities(requested, granted), name, op)) {
          expect(permits(requested, name, op)).toBe(true)
          expect(permits(granted, name, op)).toBe(true)
        }
      }),
      { numRuns: 500 },
    )
  })

  it('intersecting with "*" keeps exactly what was requested', () => {
    fc.assert(
      fc.property(capability, channelName, operation, (requested, name, op) => {
        expect(permits(intersectCapabilities(requested, ALL), name, op)).toBe(permits(requested, name, op))
      }),
    )
  })

  it('canonical text parses back to the same capability', () => {
    fc.assert(
      fc.property(capability, (value) => {
        const parsed = parseCapability(canonicalCapability(value))
        expect(canonicalCapability(parsed)).toBe(canonicalCapability(value))
      }),
    )
  })
})
