/** `npm start` with an identity provider's keys and no JWT_SECRET: no secret is generated beside them, provider tokens work. */
import { afterAll, beforeAll, expect, it } from 'vitest'
import { channelSegment } from '../../src/channels/index.ts'
import { providerShapes, signingKey, signWith, startJwksServer, type JwksServer } from '../support/identity-provider.ts'
import { useLocalStack } from '../support/local-stack.ts'

let jwks: JwksServer
let origin = ''
const rsaKey = signingKey('RS256', 'rsa-stack')
const ecKey = signingKey('ES256', 'ec-stack')
const server = Promise.all([rsaKey, ecKey]).then(([rsa, ec]) => startJwksServer([rsa.publicJwk, ec.publicJwk]))
// Registered before the stack's own beforeAll, so the JWKS server (and the issuer) exist when the stack starts.
beforeAll(async () => {
  jwks = await server
  origin = jwks.origin
})
const local = useLocalStack({
  get env() {
    return { JWT_PROVIDER: 'clerk', JWT_ISSUER: origin, JWT_AUTHORIZED_PARTIES: 'https://app.example.com' }
  },
})
afterAll(() => jwks?.close())

it('starts with the provider alone (no generated secret, no dev login) and trades a Clerk-shaped token', async () => {
  expect(local.stack.sources.secrets).toBe('environment')
  const [rsa, ec] = await Promise.all([rsaKey, ecKey])
  const shape = providerShapes(jwks.origin, { rsa, ec }).clerk
  const now = Math.floor(Date.now() / 1000)
  const jwt = await signWith(rsa, { ...shape.claims(0), iss: jwks.origin, iat: now, nbf: now - 5, exp: now + 60 })
  const res = await fetch(`${local.stack.url}/api/ably/token`, { method: 'POST', headers: { Authorization: `Bearer ${jwt}` } })
  const body = (await res.json()) as { clientId: string; capability: Record<string, string[]> }
  expect([res.status, body.clientId]).toEqual([200, shape.userId(0)])
  expect(Object.keys(body.capability)).toContain(`contacts:${channelSegment(shape.userId(0))}`)
  expect((await fetch(`${local.stack.url}/dev/session`, { method: 'POST' })).status).toBe(404)
})
