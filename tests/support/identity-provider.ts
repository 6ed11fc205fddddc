/**
 * A hosted identity provider on loopback, for the tests of issue 12: a JWKS server (RSA, P-256 and Ed25519 keys)
 * that can rotate, go down, or answer slowly, and tokens shaped like Auth0's, Clerk's, Supabase's, Firebase's and
 * Cognito's, signed with those keys. Runs on Node (vitest); the Deno suite has its own server in the same shape.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose'
import type { Env } from '../../src/config/index.ts'
import { NOW_SEC } from './fixtures.ts'

export interface SigningKey {
  kid: string
  alg: 'RS256' | 'ES256' | 'EdDSA'
  privateKey: CryptoKey
  publicJwk: JWK
}

export async function signingKey(alg: SigningKey['alg'], kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { crv: alg === 'EdDSA' ? 'Ed25519' : undefined, extractable: true })
  return { kid, alg, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } }
}

export interface JwksServer {
  /** `http://127.0.0.1:<port>`; every path ending in `jwks.json` serves the key set (503 under `/down/`). */
  readonly origin: string
  /** The keys served now (replace to rotate). */
  keys: JWK[]
  /** `up`, `down` (503), `reset` (connection destroyed) or `slow` (answers after `delayMs`). */
  mode: 'up' | 'down' | 'reset' | 'slow'
  delayMs: number
  /** How many key-set requests arrived. */
  fetches: number
  close(): Promise<void>
}

export async function startJwksServer(keys: JWK[]): Promise<JwksServer> {
  const state = { keys, mode: 'up' as JwksServer['mode'], delayMs: 0, fetches: 0 }
  const server: Server = createServer((req, res) => {
    if (!req.url?.endsWith('jwks.json')) return res.writeHead(404).end()
    state.fetches++
    // A provider that is down for good, whatever the mode: any path under /down/.
    if (req.url.includes('/down/')) return res.writeHead(503).end('unavailable')
    if (state.mode === 'reset') return req.socket.destroy()
    if (state.mode === 'down') return res.writeHead(503).end('unavailable')
    const answer = () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: state.keys }))
    if (state.mode === 'slow') setTimeout(answer, state.delayMs)
    else answer()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return Object.assign(state, {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  })
}

export type ProviderName = 'auth0' | 'clerk' | 'supabase' | 'firebase' | 'cognito'

export interface ProviderShape {
  /** The environment a user sets for this provider (beside ABLY_API_KEY): the preset and three variables at most. */
  env: Env
  /** Claims of a token for the user `index` (0 or 1), as the provider shapes them. */
  claims(index?: number): JWTPayload
  /** The user id of user `index`, as it becomes the Ably clientId. */
  userId(index?: number): string
  /** The admin role's claims and the ABLY_ADMIN_ROLES entry that names it. */
  admin: { claims: JWTPayload; role: string }
  /** The key that signs this provider's tokens. */
  key: SigningKey
  /** Claims that make the token another app's (wrong audience, azp, client or token use). */
  foreignAudience: JWTPayload
}

const uuid = (index: number) => `3f0c${index}a2e-9b1d-4c7e-8f20-5d6a7b8c9d0${index}`

/** The five providers' token shapes, with issuers under the JWKS server's origin. */
export function providerShapes(origin: string, keys: { rsa: SigningKey; ec: SigningKey }): Record<ProviderName, ProviderShape> {
  const base = { iat: NOW_SEC, exp: NOW_SEC + 3600 }
  return {
    auth0: {
      env: { JWT_PROVIDER: 'auth0', JWT_ISSUER: `${origin}/`, JWT_AUDIENCE: 'https://api.example.com', JWT_ROLE_CLAIM: '/https:~1~1example.com~1roles' },
      userId: (i = 0) => ['auth0|64f1a2b3c4d5e6f7a8b9c0d1', 'google-oauth2|104912345678901234567'][i] as string,
      claims(i = 0) {
        return {
          ...base,
          iss: `${origin}/`,
          sub: this.userId(i),
          aud: ['https://api.example.com', `${origin}/userinfo`],
          azp: 'spaClient',
          scope: 'openid profile',
          sid: `auth0sess${i}`,
        }
      },
      admin: { claims: { 'https://example.com/roles': ['admin'] }, role: 'admin' },
      key: keys.rsa,
      foreignAudience: { aud: 'https://other-api.example.com' },
    },
    clerk: {
      env: { JWT_PROVIDER: 'clerk', JWT_ISSUER: origin, JWT_AUTHORIZED_PARTIES: 'https://app.example.com,http://localhost:5173' },
      userId: (i = 0) => ['user_2abcDEFghiJKLmnoPQRstuVWX', 'user_2zyxWVUtsrQPOnmlKJIhgfEDC'][i] as string,
      claims(i = 0) {
        return {
          ...base,
          exp: NOW_SEC + 60,
          nbf: NOW_SEC - 10,
          iss: origin,
          sub: this.userId(i),
          azp: 'https://app.example.com',
          sid: `sess_2abc${i}`,
          org_id: 'org_2team',
        }
      },
      admin: { claims: { org_role: 'org:admin' }, role: 'org:admin' },
      key: keys.rsa,
      foreignAudience: { azp: 'https://evil.example.net' },
    },
    supabase: {
      env: { JWT_PROVIDER: 'supabase', JWT_ISSUER: `${origin}/auth/v1` },
      userId: (i = 0) => uuid(i),
      claims(i = 0) {
        return {
          ...base,
          iss: `${origin}/auth/v1`,
          sub: uuid(i),
          aud: 'authenticated',
          role: 'authenticated',
          email: `user${i}@example.com`,
          session_id: `5e551on${i}-0000-4000-8000-000000000000`,
          app_metadata: { provider: 'email' },
          // The user edits this one: it must never grant anything.
          user_metadata: { role: 'admin' },
        }
      },
      admin: { claims: { app_metadata: { provider: 'email', role: 'admin' } }, role: 'admin' },
      key: keys.ec,
      foreignAudience: { aud: 'anon' },
    },
    firebase: {
      env: {
        JWT_PROVIDER: 'firebase',
        JWT_ISSUER: 'https://securetoken.google.com/demo-project',
        JWT_AUDIENCE: 'demo-project',
        JWT_JWKS_URL: `${origin}/firebase/jwks.json`,
      },
      // Firebase uids may be up to 128 characters: beyond a plain segment, so hashed.
      userId: (i = 0) => `${i}`.repeat(1) + 'FbUid'.repeat(25).slice(0, 127),
      claims(i = 0) {
        return {
          ...base,
          iss: 'https://securetoken.google.com/demo-project',
          aud: 'demo-project',
          auth_time: NOW_SEC - 60,
          sub: this.userId(i),
          user_id: this.userId(i),
          email: `user${i}@example.com`,
          firebase: { identities: { email: [`user${i}@example.com`] }, sign_in_provider: 'password' },
        }
      },
      admin: { claims: { role: 'admin' }, role: 'admin' },
      key: keys.rsa,
      foreignAudience: { aud: 'another-project', iss: 'https://securetoken.google.com/another-project' },
    },
    cognito: {
      env: { JWT_PROVIDER: 'cognito', JWT_ISSUER: `${origin}/us-east-1_AbCdEf123`, JWT_AUDIENCE: '1example23456789client' },
      userId: (i = 0) => uuid(i + 5),
      claims(i = 0) {
        return {
          ...base,
          iss: `${origin}/us-east-1_AbCdEf123`,
          sub: uuid(i + 5),
          client_id: '1example23456789client',
          token_use: 'access',
          scope: 'aws.cognito.signin.user.admin',
          username: `user${i}`,
          origin_jti: `0rigin${i}-jti`,
          jti: `jti-${i}-0001`,
          event_id: 'e1',
          auth_time: NOW_SEC - 60,
        }
      },
      admin: { claims: { 'cognito:groups': ['admins', 'staff'] }, role: 'admins' },
      key: keys.rsa,
      foreignAudience: { client_id: 'another-app-client' },
    },
  }
}

/** Signs `claims` with `key` (header `kid`, `alg` and `typ: JWT` unless overridden). */
export function signWith(key: SigningKey, claims: JWTPayload, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT', ...header }).sign(key.privateKey)
}
