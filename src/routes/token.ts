/** `POST`/`GET /api/ably/token`: trades a verified app JWT for a least-privilege Ably JWT, signed locally. */
import type { Context } from 'hono'
import { Hono } from 'hono/tiny'
import type { AppEnv, RouteFactory } from '../app-env.ts'
import { invalidToken } from '../auth/app-token.ts'
import { createAblyTokenSigner } from '../auth/ably-token.ts'
import { userCapability } from '../channels/index.ts'
import type { TokenResponse } from '../contract/index.ts'
import { methodNotAllowed } from '../middleware/allow-methods/index.ts'
import { authenticate } from '../middleware/authenticate/index.ts'
import { bodyLimit } from '../middleware/body-limit/index.ts'

export const tokenRoutes: RouteFactory = ({ config, verify, now }) => {
  const sign = createAblyTokenSigner(config.ably.key)
  const ttlSec = config.tokenTtlSec
  const minTtlSec = config.tokenMinTtlSec
  const issue = async (c: Context<AppEnv>) => {
    const caller = c.get('caller')
    if (!caller) throw invalidToken('no caller')
    const nowMs = now()
    const iat = Math.floor(nowMs / 1000)
    // The credential never outlives the app JWT (the verifier refuses one with no lifetime left, on every route),
    // unless ABLY_TOKEN_MIN_TTL (opt-in, at most 15 minutes) lets it live that long for providers' 60-second tokens.
    const exp = Math.min(iat + ttlSec, Math.max(Math.floor(caller.exp), iat + minTtlSec))
    const capability = userCapability(caller.userId)
    const token = await sign({ clientId: caller.userId, capability, iat, exp })
    const body: TokenResponse = {
      token,
      expiresIn: exp - iat,
      expiresAt: new Date(exp * 1000).toISOString(),
      issued: iat * 1000,
      expires: exp * 1000,
      userId: caller.userId,
      clientId: caller.userId,
      capability,
      timestamp: new Date(nowMs).toISOString(),
    }
    c.header('Cache-Control', 'no-store')
    return c.json(body)
  }

  // GET as well as POST, for ably-js `authUrl`. A refused app JWT is 403 `signed_out`, not 401: ably-js retries every
  // auth failure except a 403 from its auth endpoint (RSA4d), and nothing a retry sends would change the answer.
  return new Hono<AppEnv>()
    .on(['GET', 'POST'], '/token', bodyLimit(16 * 1024), authenticate({ verify, refuseAs: 'signed_out', ...(config.jwt.cookie !== undefined && { cookie: config.jwt.cookie }) }), issue)
    .all('/token', methodNotAllowed(['GET', 'POST']))
}
