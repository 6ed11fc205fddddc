/** `POST`/`GET /api/ably/token`: trades a verified app JWT for a least-privilege Ably JWT, signed locally. */
import type { Context } from 'hono'
import { Hono } from 'hono/tiny'
import type { AppEnv, Revocation, RouteFactory } from '../app-env.ts'
import type { CredentialPolicy } from '../policy/index.ts'
import { smsInboxCredentials } from '../policy/sms-inbox-channels.ts'
import { invalidToken } from '../auth/app-token.ts'
import type { Caller } from '../auth/caller.ts'
import { createAblyTokenSigner } from '../auth/ably-token.ts'
import { loadOnce } from '../lazy/index.ts'
import type { RevocationServices } from '../revocation/services.ts'
import type { TokenRequestResponse, TokenResponse } from '../contract/index.ts'
import { AppError } from '../errors/index.ts'
import { methodNotAllowed } from '../middleware/allow-methods/index.ts'
import { authenticate } from '../middleware/authenticate/index.ts'
import { lazyBodyLimit } from '../middleware/body-limit/lazy.ts'
import { describeError } from '../log/index.ts'

/** The longest Ably JWT issued: it travels in an HTTP header or URL, which Ably and proxies cap at about 8 KB. */
export const MAX_ABLY_JWT_LENGTH = 7680

export const tokenRoutes: RouteFactory<CredentialPolicy> = ({ config, verify, now, policy = smsInboxCredentials, revocation, log }) => {
  const sign = createAblyTokenSigner(config.ably.key)
  // Imported on the first token too long for a header: with most policies, never.
  const requestSigner = loadOnce(() => import('../auth/ably-token-request.ts').then((module) => module.createAblyTokenRequestSigner(config.ably.key)))
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
    // The least the policy grants this caller: its own and its groups' channels, and the public ones.
    const capability = policy.capability(caller)
    // Memberships are read from the app JWT here, once: a member removed from a group keeps its channels until this
    // credential expires (ABLY_TOKEN_TTL at most); revoke the token to cut it off sooner.
    // With revocation on, a revoked session is refused before anything is signed, and every token names its session.
    const revocationKey = revocation ? await checkSession(revocation, caller, c.get('requestId')) : undefined
    const token = await sign({ clientId: caller.userId, capability, iat, exp, ...(revocationKey !== undefined && { revocationKey }) })
    const common = {
      expiresIn: exp - iat,
      expiresAt: new Date(exp * 1000).toISOString(),
      userId: caller.userId,
      clientId: caller.userId,
      capability,
      timestamp: new Date(nowMs).toISOString(),
    }
    // An Ably JWT carries its capability and travels in a header (about 8 KB): past that, a TokenRequest signed
    // here, which the browser redeems at Ably for a token of the same capability, clientId and lifetime.
    let body: TokenResponse | TokenRequestResponse = { token, issued: iat * 1000, expires: exp * 1000, ...common }
    if (token.length > MAX_ABLY_JWT_LENGTH) {
      // Beyond what ably-js accepts (128 KiB of JSON), a 403 `forbidden`: nothing we could issue would carry it.
      const tokenRequest = await (await requestSigner())({ clientId: caller.userId, capability, ttlMs: (exp - iat) * 1000, timestamp: nowMs })
      body = { tokenRequest, ...common }
    }
    c.header('Cache-Control', 'no-store')
    return c.json(body)
  }

  /** The session's revocation key, or 403 `signed_out` when the deny-list has it (the refusal ably-js does not retry). */
  async function checkSession(revocation: Revocation, caller: Caller, requestId: string): Promise<string> {
    let checked: Awaited<ReturnType<RevocationServices['check']>>
    try {
      checked = await (await revocation.load()).check(caller)
    } catch (error) {
      // Fail closed: a session that cannot be checked gets no token. ably-js retries a 503 after its backoff.
      log({ level: 'error', msg: 'revocation_check_failed', requestId, error: describeError(error) })
      throw new AppError('revocation_unavailable', { message: 'The session could not be checked. Retry later.', cause: error, headers: { 'Retry-After': '2' } })
    }
    if (checked.revoked) throw new AppError('signed_out', { reason: `session revoked (${checked.revoked})` })
    return checked.sessionKey
  }

  // GET as well as POST, for ably-js `authUrl`. A refused app JWT is 403 `signed_out`, not 401: ably-js retries every
  // auth failure except a 403 from its auth endpoint (RSA4d), and nothing a retry sends would change the answer.
  return new Hono<AppEnv>()
    .on(
      ['GET', 'POST'],
      '/token',
      lazyBodyLimit(16 * 1024),
      authenticate({ verify, refuseAs: 'signed_out', ...(config.jwt.cookie !== undefined && { cookie: config.jwt.cookie }) }),
      issue,
    )
    .all('/token', methodNotAllowed(['GET', 'POST']))
}
