/**
 * Whether a request's headers say it has no body, so a body limit has nothing to do: a GET or HEAD, or an honest
 * `Content-Length: 0` (one that comes with `Transfer-Encoding` is not believed). Headers only: `c.req.raw` on
 * @hono/node-server would build the whole request object that its fast path skips.
 */
import type { Context } from 'hono'

export function headersSayNoBody(c: Context): boolean {
  const method = c.req.method
  return method === 'GET' || method === 'HEAD' || (c.req.header('content-length') === '0' && c.req.header('transfer-encoding') === undefined)
}
