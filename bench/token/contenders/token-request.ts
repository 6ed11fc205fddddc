/**
 * Alternative (a): a Hono route that verifies the app JWT with jose and answers with ably-js
 * `auth.createTokenRequest`. The browser then has to POST that TokenRequest to Ably (`/keys/:key/requestToken`)
 * before it holds a usable token. jose rather than jsonwebtoken, as a Hono user on the edge would pick: it is what
 * runs on Deno and Workers, and it keeps the comparison on what differs, the credential issued.
 */
import * as Ably from 'ably'
import { Hono } from 'hono'
import { jwtVerify } from 'jose'
import { isValidId, userCapability } from '../../../src/channels/index.ts'
import { ABLY_API_KEY, JWT_SECRET, TOKEN_PATH, TTL_SEC, type FetchHandler } from '../fixtures.ts'

/** The route's `fetch`. The HMAC key is imported once, as a careful user would, not per request. */
export function tokenRequestHandler(): FetchHandler {
  const rest = new Ably.Rest({ key: ABLY_API_KEY })
  const secret = crypto.subtle.importKey('raw', new TextEncoder().encode(JWT_SECRET), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify'])
  const app = new Hono()
  app.on(['GET', 'POST'], TOKEN_PATH, async (c) => {
    const token = /^Bearer (\S+)$/i.exec(c.req.header('authorization') ?? '')?.[1]
    if (token === undefined) return c.json({ error: 'unauthorized' }, 401)
    let userId: unknown
    try {
      ;({
        payload: { userId },
      } = await jwtVerify(token, await secret, { algorithms: ['HS256'], requiredClaims: ['exp'] }))
    } catch {
      return c.json({ error: 'unauthorized' }, 401)
    }
    if (!isValidId(userId)) return c.json({ error: 'unauthorized' }, 401)
    const tokenRequest = await rest.auth.createTokenRequest({ clientId: userId, capability: JSON.stringify(userCapability(userId)), ttl: TTL_SEC * 1000 })
    c.header('Cache-Control', 'no-store')
    return c.json(tokenRequest)
  })
  return app.fetch
}
