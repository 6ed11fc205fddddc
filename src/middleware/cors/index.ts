/** CORS for an explicit origin allow-list: never `*`, never credentials (the API uses bearer tokens), `Vary: Origin`. */
import type { MiddlewareHandler } from 'hono'
import { loadOnce } from '../../lazy/index.ts'

const ALLOWED_REQUEST_HEADERS = ['Authorization', 'Content-Type', 'Idempotency-Key', 'X-Request-Id']
const EXPOSED_RESPONSE_HEADERS = ['X-Request-Id', 'Retry-After', 'RateLimit', 'RateLimit-Policy', 'Idempotent-Replayed', 'WWW-Authenticate']

/**
 * Preflights are Hono's `cors()`. Other requests get the headers `cors()` gives them, but set before the handler
 * runs, so the handler's response is built once: `cors()` reads `c.res` before the handler and appends `Vary` after
 * it, which makes Hono build each response up to four times and reads its body as a stream, pushing
 * `@hono/node-server` off its fast path (about twice the CPU per token request on Node; see bench/README.md).
 * `cors()` is imported on the first preflight: an edge isolate that only ever sees same-origin requests (or repeat
 * ones, within the preflight's `max-age`) never evaluates it.
 */
export function corsAllowList(origins: readonly string[]): MiddlewareHandler {
  const allowed = new Set(origins)
  const preflight = loadOnce(() =>
    import('hono/cors').then(({ cors }) =>
      cors({
        origin: (origin) => (allowed.has(origin) ? origin : null),
        allowMethods: ['GET', 'POST', 'OPTIONS'],
        allowHeaders: ALLOWED_REQUEST_HEADERS,
        exposeHeaders: EXPOSED_RESPONSE_HEADERS,
        credentials: false,
        maxAge: 600,
      }),
    ),
  )
  const exposed = EXPOSED_RESPONSE_HEADERS.join(',')
  return async function cors(c, next) {
    if (c.req.method === 'OPTIONS') return (await preflight())(c, next)
    const origin = c.req.header('origin')
    if (origin !== undefined && allowed.has(origin)) {
      c.header('Access-Control-Allow-Origin', origin)
      c.header('Access-Control-Expose-Headers', exposed)
    }
    c.header('Vary', 'Origin', { append: true })
    await next()
  }
}
