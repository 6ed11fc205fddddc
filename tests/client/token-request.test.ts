/** A token response carrying a signed TokenRequest (a capability too large for an Ably JWT) reaches ably-js as is. */
import { describe, expect, it } from 'vitest'
import { createTokenAuth } from '../../src/client/token-auth.ts'

const tokenRequest = {
  keyName: 'app.key',
  ttl: 3_600_000,
  capability: '{"team:t1:*":["subscribe"]}',
  clientId: 'alice',
  timestamp: 5_000,
  nonce: '0123456789abcdef0123',
  mac: 'bWFj',
}

describe('the token source and a TokenRequest', () => {
  it('hands ably-js the TokenRequest (keyName, no issued) and tells onToken when it was signed and for how long', async () => {
    const fetch: typeof globalThis.fetch = async () => Response.json({ tokenRequest, clientId: 'alice', capability: { 'team:t1:*': ['subscribe'] } })
    const told: [number, number][] = []
    const auth = createTokenAuth({ getAppToken: () => 'app.jwt', fetch, onToken: (token) => told.push([token.issued, token.expires]) })
    const credential = await auth.requestToken()
    expect(credential).toEqual(tokenRequest)
    expect(credential).not.toHaveProperty('issued')
    expect(told).toEqual([[5_000, 3_605_000]])
    const given = await new Promise((resolve) => auth.authCallback({}, (_error, token) => resolve(token)))
    expect(given).toEqual(tokenRequest)
  })

  it('a tokenRequest without its MAC is not a token response', async () => {
    const fetch: typeof globalThis.fetch = async () => Response.json({ tokenRequest: { ...tokenRequest, mac: undefined } })
    const auth = createTokenAuth({ getAppToken: () => 'app.jwt', fetch })
    await expect(auth.requestToken()).rejects.toMatchObject({ statusCode: 500 })
  })
})
