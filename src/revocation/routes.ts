/**
 * `POST /api/ably/revoke`: log out this device (no body), every device (`{"scope":"user"}`), or, for a role in
 * `ABLY_ADMIN_ROLES`, every device of another user (`{"userId":"…"}`). Parses, calls the one use case, answers.
 */
import type { Context } from 'hono'
import { Hono } from 'hono/tiny'
import type { AppEnv, RouteFactory } from '../app-env.ts'
import { createAblyTokenSigner } from '../auth/ably-token.ts'
import { invalidToken } from '../auth/app-token.ts'
import type { Caller } from '../auth/caller.ts'
import type { AblyKey } from '../config/index.ts'
import { isValidId } from '../channels/index.ts'
import { RevokeRequestBody, type RevokeResponse } from '../contract/index.ts'
import { AppError } from '../errors/index.ts'
import { mediaType, readJson } from '../gateway/routes.ts'
import { methodNotAllowed } from '../middleware/allow-methods/index.ts'
import { authenticate } from '../middleware/authenticate/index.ts'
import { bodyLimit } from '../middleware/body-limit/index.ts'
import type { CredentialPolicy } from '../policy/index.ts'
import { smsInboxCredentials } from '../policy/sms-inbox-channels.ts'
import { MAX_ABLY_JWT_LENGTH } from '../routes/token.ts'
import { loadOnce } from '../lazy/index.ts'
import { createRevoker, type RevokeRequest } from './revoke.ts'

const VALID_BODIES = ['no body (this session)', '{"scope":"user"} (every session of yours)', '{"userId":"…"} (admins: every session of that user)']

/** The revoke route; 404 `not_found` unless `ABLY_REVOCABLE_TOKENS=true`. */
export const revokeRoutes: RouteFactory<CredentialPolicy> = ({ config, verify, revocation, policy = smsInboxCredentials, log, now }) => {
  const app = new Hono<AppEnv>()
  if (!revocation) {
    return app.all('/revoke', () => {
      throw new AppError('not_found', { message: 'Token revocation is not enabled on this site (ABLY_REVOCABLE_TOKENS).' })
    })
  }
  const revoker = loadOnce(() =>
    revocation.load().then((services) =>
      createRevoker({
        ...services,
        ably: revocation.ably,
        adminRoles: config.adminRoles,
        retentionSec: config.revocation.retentionSec,
        tokenTtlSec: config.tokenTtlSec,
        getsTokenRequest: tokenRequestCheck(config.ably.key, policy, config.tokenTtlSec, now),
        log,
        now,
      }),
    ),
  )
  return app
    .post('/revoke', bodyLimit(1024), authenticate({ verify }), async (c) => {
      const caller = c.get('caller')
      if (!caller) throw invalidToken('no caller')
      const request = parseRequest(await bodyOf(c))
      c.header('Cache-Control', 'no-store')
      const result = await (await revoker())(caller, request, {
        deadlineAt: now() + config.deadlineMs - 1000,
        requestId: c.get('requestId'),
      })
      const body: RevokeResponse = { revoked: true, ...result }
      return c.json(body)
    })
    .all('/revoke', methodNotAllowed(['POST']))
}

/**
 * Whether the token route answers a caller with a TokenRequest: it does when the Ably JWT it would sign is longer than
 * `MAX_ABLY_JWT_LENGTH`, and that length depends only on the clientId, the capability (the policy's, from the app
 * JWT) and the revocation key (`iat` and `exp` always have ten digits). Needs the token route's policy.
 */
function tokenRequestCheck(key: AblyKey, policy: CredentialPolicy, ttlSec: number, now: () => number) {
  const sign = createAblyTokenSigner(key)
  return async (caller: Caller, revocationKey: string) => {
    const iat = Math.floor(now() / 1000)
    const token = await sign({ clientId: caller.userId, capability: policy.capability(caller), iat, exp: iat + ttlSec, revocationKey })
    return token.length > MAX_ABLY_JWT_LENGTH
  }
}

/** The JSON body, or undefined when there is none. */
async function bodyOf(c: Context<AppEnv>): Promise<unknown> {
  if ((await c.req.arrayBuffer()).byteLength === 0) return undefined
  if (mediaType(c) !== 'application/json') throw new AppError('unsupported_media_type')
  return readJson(c)
}

function parseRequest(body: unknown): RevokeRequest {
  if (body === undefined) return { scope: 'session' }
  const parsed = RevokeRequestBody.safeParse(body)
  if (!parsed.success || (parsed.data.userId !== undefined && !isValidId(parsed.data.userId)))
    throw new AppError('invalid_request', { message: 'The revoke request is not valid.', details: { valid: VALID_BODIES } })
  const { scope, userId } = parsed.data as RevokeRequestBody
  if (userId !== undefined && scope === 'session')
    throw new AppError('invalid_request', { message: "Another user's sessions are revoked whole: omit scope.", details: { valid: VALID_BODIES } })
  if (scope === 'user' || userId !== undefined) return { scope: 'user', ...(userId !== undefined && { userId }) }
  return { scope: 'session' }
}
