/**
 * The site's Netlify functions: the one route table that the entry files declare, the tests check, and the offline
 * deploy check (`scripts/deploy-check.ts`) expects to find in the manifests Netlify's own bundlers write.
 *
 * No function restricts its methods with `method`: Netlify would answer any other method with its own plain-text
 * 405 (Node functions) or pass it on to the static site (edge functions). Every method reaches our app instead,
 * which answers the methods in `allow` and gives every other one our JSON 405 with `Allow`.
 */

/** A platform rate limit, as `rateLimit` in a function's inline config: at most `windowLimit` requests per `windowSize` s. */
export interface PlatformRateLimit {
  readonly windowLimit: number
  readonly windowSize: number
  readonly aggregateBy: readonly ('ip' | 'domain')[]
}

export interface NetlifyFunction {
  /** The entry file's name without its extension. */
  readonly name: string
  /** `edge`: `netlify/edge-functions/<name>.ts` (Deno); `node`: `netlify/functions/<name>.mts`. */
  readonly runtime: 'edge' | 'node'
  /** The path it serves; none for a scheduled function. */
  readonly path?: string
  /** The methods the app serves on `path` (besides `OPTIONS` for CORS preflights). */
  readonly allow?: readonly string[]
  /** Netlify's rate limit in front of the function (edge invocations are billed; the gateway limits per user too). */
  readonly rateLimit?: PlatformRateLimit
  /** A cron schedule: runs only on published deploys, never on Deploy Previews or branch deploys. */
  readonly schedule?: string
  /**
   * Edge only: `manual` runs the function after Netlify's cache, so its answers may be cached (by their
   * `Netlify-CDN-Cache-Control`); the bundler then lists its route under `post_cache_routes`. Node answers need no setting.
   */
  readonly cache?: 'manual'
  /** Anonymous answers carry `Netlify-CDN-Cache-Control` (see `src/middleware/cdn-cache`); none to a request with a token. */
  readonly cdnCached?: boolean
}

/* @__NO_SIDE_EFFECTS__ */
function perClient(windowLimit: number): PlatformRateLimit {
  return { windowLimit, windowSize: 60, aggregateBy: ['ip', 'domain'] }
}

// Each function is its own constant, so an edge entry bundles its own row and not the table.
// A browser asks once per token lifetime (1 h by default) and on reconnects; 120 a minute per IP leaves room for offices behind one NAT.
export const ABLY_TOKEN = {
  name: 'ably-token',
  runtime: 'edge',
  path: '/api/ably/token',
  allow: ['GET', 'POST'],
  rateLimit: perClient(120),
} as const satisfies NetlifyFunction
// Load balancers and dashboards poll it; each uncached request calls Ably's REST API, so anonymous answers are cached.
export const ABLY_STATS = {
  name: 'ably-stats',
  runtime: 'edge',
  path: '/api/ably/stats',
  allow: ['GET'],
  rateLimit: perClient(60),
  cache: 'manual',
  cdnCached: true,
} as const satisfies NetlifyFunction
// Admin dashboards only; each request is one Ably request per 100 users asked about.
export const ABLY_PRESENCE = {
  name: 'ably-presence',
  runtime: 'edge',
  path: '/api/ably/presence',
  allow: ['GET'],
  rateLimit: perClient(60),
} as const satisfies NetlifyFunction

/** Every function of the site, by name. */
export const NETLIFY_FUNCTIONS = {
  'ably-token': ABLY_TOKEN,
  'ably-stats': ABLY_STATS,
  'ably-presence': ABLY_PRESENCE,
  'ably-publish': { name: 'ably-publish', runtime: 'node', path: '/api/ably/publish', allow: ['POST'], rateLimit: perClient(120) },
  'ably-history': { name: 'ably-history', runtime: 'node', path: '/api/ably/history', allow: ['GET'], rateLimit: perClient(300) },
  // A sign-out per device, and an admin's revokes; each one calls Ably's rate-limited revocation API.
  'ably-revoke': { name: 'ably-revoke', runtime: 'node', path: '/api/ably/revoke', allow: ['POST'], rateLimit: perClient(30) },
  // Monitors poll it; each uncached request queries the store three times and calls Ably, so anonymous answers are cached.
  'ably-health': { name: 'ably-health', runtime: 'node', path: '/api/ably/health', allow: ['GET'], rateLimit: perClient(60), cdnCached: true },
  'ably-outbox': { name: 'ably-outbox', runtime: 'node', schedule: '* * * * *' },
} as const satisfies Record<string, NetlifyFunction>

export type NetlifyFunctionName = keyof typeof NETLIFY_FUNCTIONS

/** An edge function's inline `config`: its path, platform rate limit and cache mode, from its row of the table. */
export function edgeFunctionConfig(fn: NetlifyFunction): {
  path?: `/${string}`
  cache?: 'manual'
  rateLimit?: { windowLimit: number; windowSize: number; aggregateBy: ('ip' | 'domain')[] }
} {
  const { path, rateLimit, cache } = fn
  return {
    ...(path !== undefined && { path: path as `/${string}` }),
    ...(cache !== undefined && { cache }),
    ...(rateLimit !== undefined && { rateLimit: { ...rateLimit, aggregateBy: [...rateLimit.aggregateBy] } }),
  }
}
