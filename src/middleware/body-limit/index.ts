/** Caps the request body (by Content-Length when honest, by counting the stream otherwise) with a 413. */
import type { MiddlewareHandler } from 'hono'
import { bodyLimit as honoBodyLimit } from 'hono/body-limit'
import { AppError } from '../../errors/index.ts'

/**
 * Hono's `bodyLimit`, with its commonest outcome decided from the headers alone: a bodiless method, or an honest
 * Content-Length within the cap, passes without touching `c.req.raw.body` (on Node, reading it makes
 * `@hono/node-server` build a whole `Request` and a stream). Everything else goes to Hono's, which decides as before.
 */
export function bodyLimit(maxBytes: number): MiddlewareHandler {
  const counting = honoBodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new AppError('payload_too_large', { message: `The request body is larger than ${maxBytes} bytes.` })
    },
  })
  return async function bodyLimit(c, next) {
    const method = c.req.method
    if (method === 'GET' || method === 'HEAD') return next()
    const length = c.req.header('content-length')
    if (length !== undefined && c.req.header('transfer-encoding') === undefined && Number.parseInt(length, 10) <= maxBytes) return next()
    return counting(c, next)
  }
}
