/**
 * Checks the manifests Netlify's bundlers wrote against the route table (`NETLIFY_FUNCTIONS`): every edge route (path,
 * and no `method` filter, so our app answers every method), every function route, every platform rate limit
 * (zip-it-and-ship-it drops an invalid `rateLimit` without a word) and the outbox schedule. An empty `routes` list,
 * which the edge bundler writes with exit code 0 when it could not load the functions, fails here.
 */
import type { NetlifyFunction, PlatformRateLimit } from '../../src/deploy/functions.ts'

export interface EdgeManifest {
  bundles: { asset: string; format: string }[]
  routes: EdgeRoute[]
  /** Routes of functions with `cache: 'manual'`: they run after Netlify's cache, so their answers can be cached. */
  post_cache_routes?: EdgeRoute[]
  function_config?: Record<string, { traffic_rules?: EdgeTrafficRules }>
}

interface EdgeRoute {
  function: string
  pattern: string
  path?: string
  methods?: string[]
  excluded_patterns?: string[]
}

interface EdgeTrafficRules {
  action: {
    type: string
    config: { rate_limit_config: { window_limit: number; window_size: number; algorithm: string }; aggregate: { keys: { type: string }[] } }
  }
}

export interface FunctionsManifest {
  functions: {
    name: string
    path: string
    runtime: string
    bundler?: string
    routes?: { pattern: string; literal?: string; methods: string[] }[]
    schedule?: string
    trafficRules?: {
      action: {
        type: string
        config: { rateLimitConfig: { windowLimit: number; windowSize: number; algorithm: string }; aggregate: { keys: { type: string }[] } }
      }
    }
  }[]
}

/** One finding: what was checked and, when it failed, what was found instead. */
export interface Finding {
  check: string
  ok: boolean
  detail?: string
}

/** Checks both manifests against the expected functions; returns one finding per expectation. */
export function checkManifests(expected: readonly NetlifyFunction[], edge: EdgeManifest, functions: FunctionsManifest): Finding[] {
  const findings: Finding[] = []
  const expect = (check: string, ok: boolean, detail?: string) => findings.push({ check, ok, ...(!ok && detail !== undefined && { detail }) })

  const edgeExpected = expected.filter((fn) => fn.runtime === 'edge')
  const allRoutes = [...edge.routes, ...(edge.post_cache_routes ?? [])]
  expect(
    'the edge manifest lists routes (an offline build that could not load the functions writes `routes: []`)',
    allRoutes.length >= edgeExpected.length,
    `routes: ${JSON.stringify(allRoutes)}`,
  )
  expect('the edge manifest names one ESZIP bundle', edge.bundles.length === 1 && edge.bundles[0]?.format === 'eszip2', JSON.stringify(edge.bundles))

  for (const fn of edgeExpected) {
    const routes = allRoutes.filter((route) => route.function === fn.name)
    const route = routes[0]
    expect(`edge ${fn.name}: one route for ${fn.path}`, routes.length === 1 && route?.path === fn.path, JSON.stringify(routes))
    // Only a post-cache (`cache: 'manual'`) edge function's answers are cached by Netlify, whatever headers it sets.
    const postCache = (edge.post_cache_routes ?? []).some((candidate) => candidate.function === fn.name)
    expect(
      `edge ${fn.name}: ${fn.cache === 'manual' ? 'after the cache (`cache: manual`), so its anonymous answers can be cached' : 'before the cache (no `cache` setting)'}`,
      postCache === (fn.cache === 'manual'),
      JSON.stringify({ post_cache_routes: edge.post_cache_routes }),
    )
    if (route && fn.path) {
      expect(
        `edge ${fn.name}: its pattern matches ${fn.path} and nothing longer`,
        new RegExp(route.pattern).test(fn.path) && !new RegExp(route.pattern).test(`${fn.path}x`),
        route.pattern,
      )
      expect(
        `edge ${fn.name}: every method reaches it (no \`method\` filter), so our JSON 405 answers the others`,
        !route.methods?.length,
        JSON.stringify(route.methods),
      )
    }
    const rules = edge.function_config?.[fn.name]?.traffic_rules
    expect(`edge ${fn.name}: platform rate limit ${describeLimit(fn.rateLimit)}`, sameLimit(fn.rateLimit, rules && fromEdgeRules(rules)), JSON.stringify(rules))
  }

  for (const fn of expected.filter((fn) => fn.runtime === 'node')) {
    const found = functions.functions.find((candidate) => candidate.name === fn.name)
    if (!found) {
      expect(`function ${fn.name}: bundled`, false, `bundled: ${functions.functions.map((candidate) => candidate.name).join(', ') || 'none'}`)
      continue
    }
    expect(`function ${fn.name}: a Node.js zip`, found.runtime === 'js' && found.path.endsWith('.zip'), `${found.runtime} ${found.path}`)
    const routes = found.routes ?? []
    if (fn.path) {
      expect(
        `function ${fn.name}: one route for ${fn.path}, every method`,
        routes.length === 1 && routes[0]?.literal === fn.path && routes[0]?.methods.length === 0,
        JSON.stringify(routes),
      )
    } else {
      expect(`function ${fn.name}: no HTTP route`, routes.length === 0, JSON.stringify(routes))
    }
    expect(`function ${fn.name}: schedule ${fn.schedule ?? 'none'}`, found.schedule === fn.schedule, String(found.schedule))
    const rules = found.trafficRules
    expect(
      `function ${fn.name}: platform rate limit ${describeLimit(fn.rateLimit)}`,
      sameLimit(fn.rateLimit, rules && fromFunctionRules(rules)),
      JSON.stringify(rules),
    )
  }
  return findings
}

interface Limit {
  type: string
  windowLimit: number
  windowSize: number
  aggregateBy: string[]
}

const fromEdgeRules = ({ action }: EdgeTrafficRules): Limit => ({
  type: action.type,
  windowLimit: action.config.rate_limit_config.window_limit,
  windowSize: action.config.rate_limit_config.window_size,
  aggregateBy: action.config.aggregate.keys.map((key) => key.type),
})

const fromFunctionRules = ({ action }: NonNullable<FunctionsManifest['functions'][number]['trafficRules']>): Limit => ({
  type: action.type,
  windowLimit: action.config.rateLimitConfig.windowLimit,
  windowSize: action.config.rateLimitConfig.windowSize,
  aggregateBy: action.config.aggregate.keys.map((key) => key.type),
})

function sameLimit(expected: PlatformRateLimit | undefined, found: Limit | undefined): boolean {
  if (expected === undefined || found === undefined) return expected === found
  return (
    found.type === 'rate_limit' &&
    found.windowLimit === expected.windowLimit &&
    found.windowSize === expected.windowSize &&
    JSON.stringify([...found.aggregateBy].sort()) === JSON.stringify([...expected.aggregateBy].sort())
  )
}

const describeLimit = (limit: PlatformRateLimit | undefined) =>
  limit === undefined ? 'none' : `${limit.windowLimit}/${limit.windowSize} s per ${limit.aggregateBy.join('+')}`
