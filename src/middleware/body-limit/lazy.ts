/**
 * `bodyLimit`, imported only for a request that carries a body: a token request from ably-js (`authUrl`) or from our
 * client has none, so an edge isolate that serves only the token route seldom evaluates the limit's code.
 */
import type { MiddlewareHandler } from 'hono'
import type { AppEnv } from '../../app-env.ts'

export function lazyBodyLimit(maxBytes: number): MiddlewareHandler<AppEnv> {
  let limit: Promise<MiddlewareHandler<AppEnv>> | undefined
  return async function bodyLimit(c, next) {
    if (c.req.raw.body === null) return next()
    limit ??= import('./index.ts').then((module) => module.bodyLimit(maxBytes))
    return (await limit)(c, next)
  }
}
