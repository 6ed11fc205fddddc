/** The declared public surface (src/public.ts) is real, documented, and its browser modules carry no server code. */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'
import { PUBLIC_BINS, PUBLIC_ENTRIES } from '../../src/public.ts'

const root = join(import.meta.dirname, '../..')
const entries = Object.entries(PUBLIC_ENTRIES)

/** Every module `file` loads at run time (type-only imports aside), transitively: relative files and bare specifiers. */
function runtimeImports(file: string, seen = new Set<string>()): Set<string> {
  const text = readFileSync(join(root, file), 'utf8')
  for (const [, typeOnly, specifier] of text.matchAll(/^(?:import|export)\s+(type\s+)?(?:[^'"]*?from\s+)?'([^']+)'/gm)) {
    if (typeOnly !== undefined) continue
    const target = (specifier as string).startsWith('.') ? relative(root, join(dirname(join(root, file)), specifier as string)) : (specifier as string)
    if (seen.has(target)) continue
    seen.add(target)
    if (target.endsWith('.ts')) runtimeImports(target, seen)
  }
  return seen
}

describe('the public surface', () => {
  it('names files that exist, each exporting something', () => {
    for (const [, { file }] of entries) {
      expect(existsSync(join(root, file)), file).toBe(true)
      expect(readFileSync(join(root, file), 'utf8'), file).toMatch(/^export /m)
    }
    for (const file of Object.values(PUBLIC_BINS)) expect(existsSync(join(root, file)), file).toBe(true)
  })

  it('is the table in the README, subpath, file and runtime alike', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8')
    const rows = [...readme.matchAll(/^\| `(\.\/[^`]+)` \| `([^`]+)` \| ([^|]+?) \|/gm)].map(([, subpath, file, runs]) => [subpath, file, runs])
    const declared = entries.map(([subpath, entry]) => [subpath, entry.file, 'devOnly' in entry ? `${entry.runs} (development)` : entry.runs])
    expect(rows).toEqual(declared)
  })

  it('loads no Node module and no server code where a browser may run it', () => {
    const server = /^(src\/(routes|gateway|store|hub|server|wiring|local|deploy)\/|node:|mongodb$|ws$|@hono\/node-server)/
    for (const [subpath, { file, runs }] of entries) {
      if (runs !== 'browser' && runs !== 'any') continue
      expect(
        [...runtimeImports(file)].filter((module) => server.test(module)),
        subpath,
      ).toEqual([])
    }
  })

  it('loads no Node module where the edge runs it', () => {
    for (const [subpath, { file, runs }] of entries) {
      if (runs !== 'edge') continue
      expect(
        [...runtimeImports(file)].filter((module) => /^(node:|mongodb$|ws$|@hono\/node-server|src\/(gateway|store|hub|server|local)\/)/.test(module)),
        subpath,
      ).toEqual([])
    }
  })
})
