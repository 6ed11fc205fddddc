/** The deploy check's manifest rules, on manifests that Netlify's own bundlers wrote for this site (fixtures), and on broken copies. */
import { describe, expect, it } from 'vitest'
import { NETLIFY_FUNCTIONS } from '../../src/deploy/functions.ts'
import { checkManifests, type EdgeManifest, type FunctionsManifest } from '../../scripts/deploy-check/manifests.ts'
import edgeFixture from './fixtures/edge-manifest.json' with { type: 'json' }
import functionsFixture from './fixtures/functions-manifest.json' with { type: 'json' }

const expected = Object.values(NETLIFY_FUNCTIONS)
const edge = () => structuredClone(edgeFixture) as EdgeManifest
const functions = () => structuredClone(functionsFixture) as FunctionsManifest
const failed = (edgeManifest: EdgeManifest, functionsManifest: FunctionsManifest) =>
  checkManifests(expected, edgeManifest, functionsManifest)
    .filter((finding) => !finding.ok)
    .map((finding) => finding.check)

describe('checkManifests', () => {
  it('passes the manifests the bundlers wrote for this site', () => {
    expect(failed(edge(), functions())).toEqual([])
  })

  it('fails the false green of an offline build: exit 0 with `routes: []`', () => {
    const empty = { ...edge(), routes: [], post_cache_routes: [], function_config: {} }
    expect(failed(empty, functions())).toEqual(
      expect.arrayContaining([
        expect.stringContaining('the edge manifest lists routes'),
        'edge ably-token: one route for /api/ably/token',
        'edge ably-stats: one route for /api/ably/stats',
      ]),
    )
  })

  it('fails when a rate limit was dropped (zip-it-and-ship-it drops an invalid one silently) or differs', () => {
    const functionsManifest = functions()
    for (const fn of functionsManifest.functions) if (fn.name === 'ably-publish') delete fn.trafficRules
    const edgeManifest = edge()
    const token = edgeManifest.function_config?.['ably-token']?.traffic_rules
    if (token) token.action.config.rate_limit_config.window_limit = 1000
    expect(failed(edgeManifest, functionsManifest)).toEqual([
      'edge ably-token: platform rate limit 120/60 s per ip+domain',
      'function ably-publish: platform rate limit 120/60 s per ip+domain',
    ])
  })

  it('fails when ably-stats lost `cache: manual` (Netlify would never cache its answers) or another function gained it', () => {
    const edgeManifest = edge()
    const stats = edgeManifest.post_cache_routes?.find((route) => route.function === 'ably-stats')
    const token = edgeManifest.routes.find((route) => route.function === 'ably-token')
    if (!stats || !token) throw new Error('fixture lacks the stats or token route')
    edgeManifest.routes = [...edgeManifest.routes.filter((route) => route !== token), stats]
    edgeManifest.post_cache_routes = [token]
    expect(failed(edgeManifest, functions())).toEqual([
      'edge ably-token: before the cache (no `cache` setting)',
      'edge ably-stats: after the cache (`cache: manual`), so its anonymous answers can be cached',
    ])
  })

  it('fails a `method` filter (Netlify would answer other methods itself), a lost schedule and a missing function', () => {
    const edgeManifest = edge()
    const [first] = edgeManifest.routes
    if (first) first.methods = ['GET']
    const functionsManifest = functions()
    functionsManifest.functions = functionsManifest.functions.filter((fn) => fn.name !== 'ably-history')
    for (const fn of functionsManifest.functions) if (fn.name === 'ably-outbox') delete fn.schedule
    expect(failed(edgeManifest, functionsManifest)).toEqual([
      `edge ${first?.function}: every method reaches it (no \`method\` filter), so our JSON 405 answers the others`,
      'function ably-history: bundled',
      'function ably-outbox: schedule * * * * *',
    ])
  })
})
