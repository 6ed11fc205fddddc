/**
 * `bodyLimit`, imported only for a request that may carry a body: a token request from ably-js (`authUrl`) or from
 * our client has none, so an edge isolate that serves only the token route seldom evaluates the limit's code. It
 * decides from the headers as `bodyLimit` does, never touching `c.req.raw` (which on Node would build the request
 * object that @hono/node-server otherwise skips).
 */
import type { MiddlewareHandler } from 'hono'
import type { AppEnv } from '../../app-env.ts'
import { loadOnce } from '../../lazy/index.ts'

export function lazyBodyLimit(maxBytes: number): MiddlewareHandler<AppEnv> {
  const limit = loadOnce(() => import('./index.ts').then((module) => module.bodyLimit(maxBytes)))
  return async function bodyLimit(c, next) {
    const method = c.req.method
    if (method === 'GET' || method === 'HEAD' || (c.req.header('content-length') === '0' && c.req.header('transfer-encoding') === undefined)) return next()
    return (await limit())(c, next)
  }
}
