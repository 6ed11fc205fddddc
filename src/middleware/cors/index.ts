/** CORS for an explicit origin allow-list: never `*`, never credentials (the API uses bearer tokens), `Vary: Origin`. */
import type { MiddlewareHandler } from 'hono'
import { cors as honoCors } from 'hono/cors'

export const ALLOWED_REQUEST_HEADERS = ['Authorization', 'Content-Type', 'Idempotency-Key', 'X-Request-Id']
export const EXPOSED_RESPONSE_HEADERS = ['X-Request-Id', 'Retry-After', 'RateLimit', 'RateLimit-Policy', 'Idempotent-Replayed']

export function corsAllowList(origins: readonly string[]): MiddlewareHandler {
  const allowed = new Set(origins)
  return honoCors({
    origin: (origin) => (allowed.has(origin) ? origin : null),
    allowMethods: ['GET', 'POST', 'OPTIONS'],
    allowHeaders: ALLOWED_REQUEST_HEADERS,
    exposeHeaders: EXPOSED_RESPONSE_HEADERS,
    credentials: false,
    maxAge: 600,
  })
}
