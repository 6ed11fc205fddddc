/**
 * `bodyLimit`, imported only for a request that may carry a body: a token request from ably-js (`authUrl`) or from
 * our client has none, so an edge isolate that serves only the token route seldom evaluates the limit's code. It
 * decides from the headers as `bodyLimit` does, never touching `c.req.raw` (which on Node would build the request
 * object that @hono/node-server otherwise skips).
 */
import type { MiddlewareHandler } from 'hono'
import type { AppEnv } from '../../app-env.ts'

export function lazyBodyLimit(maxBytes: number): MiddlewareHandler<AppEnv> {
  let limit: Promise<MiddlewareHandler<AppEnv>> | undefined
  return async function bodyLimit(c, next) {
    const method = c.req.method
    if (method === 'GET' || method === 'HEAD' || c.req.header('content-length') === '0') return next()
    limit ??= import('./index.ts').then((module) => module.bodyLimit(maxBytes))
    return (await limit)(c, next)
  }
}
