/** `POST`/`GET /api/ably/token`: trades a verified app JWT for a least-privilege Ably JWT, signed locally. */
import type { Context } from 'hono'
import { Hono } from 'hono/tiny'
import type { AppEnv, RouteFactory } from '../app-env.ts'
import { invalidToken } from '../auth/app-token.ts'
import { createAblyTokenSigner } from '../auth/ably-token.ts'
import type { TokenResponse } from '../contract/index.ts'
import { methodNotAllowed } from '../middleware/allow-methods/index.ts'
import { authenticate } from '../middleware/authenticate/index.ts'
import { bodyLimit } from '../middleware/body-limit/index.ts'
import { callerOfUser } from '../policy/index.ts'

export const tokenRoutes: RouteFactory = ({ config, verify, now, policy }) => {
  const sign = createAblyTokenSigner(config.ably.key)
  const ttlSec = config.tokenTtlSec
  const issue = async (c: Context<AppEnv>) => {
    const user = c.get('user')
    if (!user) throw invalidToken('no user')
    const nowMs = now()
    const iat = Math.floor(nowMs / 1000)
    // The credential never outlives the app JWT (the verifier refuses one with no lifetime left, on every route).
    const exp = Math.min(iat + ttlSec, Math.floor(user.exp))
    // The least the policy grants this caller: its own and its groups' channels, and the public ones.
    const capability = policy.capability(callerOfUser(user))
    const token = await sign({ clientId: user.userId, capability, iat, exp })
    const body: TokenResponse = {
      token,
      expiresIn: exp - iat,
      expiresAt: new Date(exp * 1000).toISOString(),
      issued: iat * 1000,
      expires: exp * 1000,
      userId: user.userId,
      clientId: user.userId,
      capability,
      timestamp: new Date(nowMs).toISOString(),
    }
    c.header('Cache-Control', 'no-store')
    return c.json(body)
  }

  // GET as well as POST, for ably-js `authUrl`. A refused app JWT is 403 `signed_out`, not 401: ably-js retries every
  // auth failure except a 403 from its auth endpoint (RSA4d), and nothing a retry sends would change the answer.
  return new Hono<AppEnv>()
    .on(['GET', 'POST'], '/token', bodyLimit(16 * 1024), authenticate({ verify, refuseAs: 'signed_out' }), issue)
    .all('/token', methodNotAllowed(['GET', 'POST']))
}
