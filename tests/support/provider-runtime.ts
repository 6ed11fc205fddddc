/**
 * Issue 12's edge cases, written once for every runtime that serves the token entry (Deno's Netlify edge entry,
 * workerd's Workers entry): each case names the environment its handler needs and what it must answer. Real time
 * (the entries use the platform clock), a JWKS server on loopback, node:assert only.
 */
import assert from 'node:assert/strict'
import { decodeJwt, type JWTPayload } from 'jose'
import { channelSegment } from '../../src/channels/index.ts'
import type { Env } from '../../src/config/index.ts'
import { craftJwt, TEST_ABLY_KEY } from './fixtures.ts'
import { providerShapes, signingKey, signWith, startJwksServer, type JwksServer, type ProviderName, type ProviderShape } from './identity-provider.ts'
import { assertSignedOut } from './runtime.ts'

export interface ProviderRuntime {
  jwks: JwksServer
  shapes: Record<ProviderName, ProviderShape>
}

export async function startProviderRuntime(): Promise<ProviderRuntime> {
  const [rsa, ec] = await Promise.all([signingKey('RS256', 'rsa-edge'), signingKey('ES256', 'ec-edge')])
  const jwks = await startJwksServer([rsa.publicJwk, ec.publicJwk])
  return { jwks, shapes: providerShapes(jwks.origin, { rsa, ec }) }
}

type Send = (request: Request) => Promise<Response>

export interface ProviderCase {
  name: string
  env: (runtime: ProviderRuntime) => Env
  run: (send: Send, runtime: ProviderRuntime) => Promise<void>
}

const ORIGIN = 'https://edge.example'
const live = (claims: JWTPayload): JWTPayload => {
  const now = Math.floor(Date.now() / 1000)
  return { ...claims, iat: now, ...(claims.nbf !== undefined && { nbf: now - 5 }), exp: now + 600 }
}
const tokenRequest = (jwt: string) => new Request(`${ORIGIN}/api/ably/token`, { method: 'POST', headers: { Authorization: `Bearer ${jwt}` } })
const baseEnv: Env = { ABLY_API_KEY: TEST_ABLY_KEY, CORS_ORIGIN: ORIGIN }

const providerCase = (name: ProviderName): ProviderCase => ({
  name: `${name}-shaped tokens: the provider user's own capabilities; another app's token is 403 signed_out`,
  env: ({ shapes }) => ({ ...baseEnv, ...shapes[name].env }),
  async run(send, { shapes }) {
    const shape = shapes[name]
    const res = await send(tokenRequest(await signWith(shape.key, live(shape.claims(0)))))
    assert.equal(res.status, 200)
    const body = (await res.json()) as { token: string; clientId: string; capability: Record<string, string[]> }
    const segment = channelSegment(shape.userId(0))
    assert.equal(body.clientId, shape.userId(0))
    assert.equal(decodeJwt(body.token)['x-ably-clientId'], shape.userId(0))
    assert.deepEqual(Object.keys(body.capability).sort(), [`contacts:${segment}`, `notifications:${segment}`, `sms:${segment}:*`])
    await assertSignedOut(await send(tokenRequest(await signWith(shape.key, live({ ...shape.claims(0), ...shape.foreignAudience })))))
  },
})

export const PROVIDER_CASES: ProviderCase[] = [
  ...(['auth0', 'clerk', 'supabase', 'firebase', 'cognito'] as const).map(providerCase),
  {
    name: 'alg none, a jku header and an HS256 token MACed with the public key are 403 signed_out',
    env: ({ shapes }) => ({ ...baseEnv, ...shapes.auth0.env }),
    async run(send, { shapes, jwks }) {
      const claims = live(shapes.auth0.claims(0))
      await assertSignedOut(await send(tokenRequest(await craftJwt({ alg: 'none' }, claims, { literal: '' }))))
      await assertSignedOut(await send(tokenRequest(await signWith(shapes.auth0.key, claims, { jku: `${jwks.origin}/.well-known/jwks.json` }))))
      await assertSignedOut(
        await send(tokenRequest(await craftJwt({ alg: 'HS256', kid: shapes.auth0.key.kid }, claims, { secret: JSON.stringify(shapes.auth0.key.publicJwk) }))),
      )
    },
  },
  {
    name: 'the provider’s JWKS down: 503 auth_keys_unavailable with Retry-After, not a sign-out',
    env: ({ shapes, jwks }) => ({ ...baseEnv, ...shapes.auth0.env, JWT_JWKS_URL: `${jwks.origin}/down/jwks.json` }),
    async run(send, { shapes }) {
      const res = await send(tokenRequest(await signWith(shapes.auth0.key, live(shapes.auth0.claims(0)))))
      assert.equal(res.status, 503)
      assert.ok(Number(res.headers.get('retry-after')) >= 1)
      assert.equal(((await res.json()) as { code: string }).code, 'auth_keys_unavailable')
    },
  },
]
