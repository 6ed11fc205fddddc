/**
 * Lets Netlify's CDN keep an anonymous answer for a few seconds, so anonymous polling of a route that calls Ably or the
 * store costs one invocation per edge location per window, however many ask. Only `Netlify-CDN-Cache-Control` is set
 * (browsers still see the handler's `Cache-Control: no-store`), only on answers to requests without `Authorization`,
 * and the cache key varies on that header, so a request with a token never gets a cached anonymous answer and its own
 * answer is never cached (https://docs.netlify.com/platform/caching/). It varies on `Origin` too, whose CORS headers
 * the answer carries.
 */
import type { MiddlewareHandler } from 'hono'
import type { AppEnv } from '../../app-env.ts'

/** How long Netlify's CDN may serve one anonymous health or stats answer. */
export const ANONYMOUS_CACHE_SECONDS = 5

export interface CdnCacheOptions {
  /** How long the CDN may serve the answer. */
  seconds: number
  /** The query parameters that make a different answer; every other one is left out of the cache key. */
  varyQuery?: readonly string[]
}

/** The statuses a health answer is given with: healthy or degraded (200) and unhealthy (503). */
const CACHEABLE = new Set([200, 503])

export function cdnCache({ seconds, varyQuery = [] }: CdnCacheOptions): MiddlewareHandler<AppEnv> {
  if (!Number.isInteger(seconds) || seconds < 1) throw new TypeError(`cdnCache: seconds must be a positive integer, got ${seconds}`)
  const vary = [...(varyQuery.length > 0 ? [`query=${varyQuery.join('|')}`] : []), 'header=Authorization|Origin'].join(',')
  return async function cdnCache(c, next) {
    await next()
    c.header('Vary', 'Authorization', { append: true })
    if (c.req.header('authorization') !== undefined || !CACHEABLE.has(c.res.status)) return
    c.header('Netlify-CDN-Cache-Control', `public, max-age=${seconds}, must-revalidate`)
    c.header('Netlify-Vary', vary)
  }
}
