/**
 * The revocation contract our code relies on, run against the local hub always and against real Ably whenever
 * `ABLY_API_KEY` is set (a key with revocable tokens enabled; `ABLY_REST_URL` optional), as the store contract runs
 * against MongoDB when `MONGODB_URI` is set. The same tests, so the hub is held to what Ably does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createFetchAblyRest, type AblyRevoke } from '../../src/ably-rest/index.ts'
import { createAblyTokenSigner } from '../../src/auth/ably-token.ts'
import { parseAblyEnv } from '../../src/config/check.ts'
import { DEFAULT_ABLY_REST_URL, type AblyKey } from '../../src/config/index.ts'
import { createHub, type Hub } from '../../src/hub/index.ts'

interface Target {
  key: AblyKey
  restUrl: string
}

function revocationContract(name: string, target: () => Target) {
  describe(`revocation contract: ${name}`, () => {
    let ably: AblyRevoke
    let sign: ReturnType<typeof createAblyTokenSigner>
    beforeAll(() => {
      ably = createFetchAblyRest(target())
      sign = createAblyTokenSigner(target().key)
    })
    const now = () => Math.floor(Date.now() / 1000)
    const jwt = (clientId: string, revocationKey: string, ttlSec = 600) =>
      sign({ clientId, capability: { [`contract:${clientId}`]: ['subscribe', 'history'] }, iat: now() - 5, exp: now() - 5 + ttlSec, revocationKey })
    const historyAs = (clientId: string, token: string) =>
      fetch(`${target().restUrl}/channels/${encodeURIComponent(`contract:${clientId}`)}/messages`, { headers: { Authorization: `Bearer ${btoa(token)}` } })
    const codeOf = async (res: Response) => ((await res.json()) as { error?: { code?: number } }).error?.code
    /** Ably applies a revocation within moments; poll a little rather than assume it is synchronous. */
    const refusedSoon = async (run: () => Promise<Response>) => {
      for (let attempt = 0; attempt < 20; attempt++) {
        const res = await run()
        if (res.status === 401) return codeOf(res)
        await new Promise((resolve) => setTimeout(resolve, 500))
      }
      return undefined
    }

    it('a revocationKey target revokes the tokens carrying it (40141) and no other token of the client', async () => {
      const clientId = `c${crypto.randomUUID().slice(0, 8)}`
      const revoked = await jwt(clientId, `k-${crypto.randomUUID()}`)
      const kept = await jwt(clientId, `k-${crypto.randomUUID()}`)
      expect((await historyAs(clientId, revoked)).status).toBe(200)
      const [result] = await ably.revokeTokens([`revocationKey:${decodeClaim(revoked)}`])
      expect(result?.error).toBeUndefined()
      expect(result?.target).toBe(`revocationKey:${decodeClaim(revoked)}`)
      expect(typeof result?.issuedBefore).toBe('number')
      expect(typeof result?.appliesAt).toBe('number')
      expect(await refusedSoon(() => historyAs(clientId, revoked))).toBe(40141)
      expect((await historyAs(clientId, kept)).status).toBe(200)
    })

    it('a clientId target revokes every token of the client', async () => {
      const clientId = `c${crypto.randomUUID().slice(0, 8)}`
      const tokens = [await jwt(clientId, 'a'), await jwt(clientId, 'b')]
      await ably.revokeTokens([`clientId:${clientId}`])
      for (const token of tokens) expect(await refusedSoon(() => historyAs(clientId, token))).toBe(40141)
    })

    it('refuses a token of a revocable key that lives longer than an hour (40003)', async () => {
      const long = await jwt('long', 'k', 3600 + 60)
      const res = await historyAs('long', long)
      expect(res.status).toBeGreaterThanOrEqual(400)
      expect(res.status).toBeLessThan(500)
      expect(await codeOf(res)).toBe(40003)
    })

    it('refuses revokeTokens from a caller authenticated with a token (40162) and over 100 targets (400)', async () => {
      const token = await jwt('t', 'k')
      const res = await fetch(`${target().restUrl}/keys/${target().key.name}/revokeTokens`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${btoa(token)}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ targets: ['clientId:t'] }),
      })
      expect(res.status).toBe(401)
      expect(await codeOf(res)).toBe(40162)
      const basic = `Basic ${btoa(`${target().key.name}:${target().key.secret}`)}`
      const many = await fetch(`${target().restUrl}/keys/${target().key.name}/revokeTokens`, {
        method: 'POST',
        headers: { Authorization: basic, 'Content-Type': 'application/json' },
        body: JSON.stringify({ targets: Array.from({ length: 101 }, (_, index) => `clientId:u${index}`) }),
      })
      expect(many.status).toBe(400)
      await expect(ably.revokeTokens(Array.from({ length: 101 }, (_, index) => `clientId:u${index}` as const))).rejects.toThrow(TypeError)
    })
  })
}

function decodeClaim(token: string): string {
  const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>
  return String(payload['x-ably-revocation-key'])
}

const HUB_KEY = { name: 'contract.revocable', secret: 'contract-revocable-secret-0123456789', revocableTokens: true }
let hub: Hub
let hubUrl = ''
beforeAll(async () => {
  hub = createHub({ keys: [HUB_KEY] })
  hubUrl = (await hub.listen(0)).url
})
afterAll(() => hub.close())
revocationContract('the local hub', () => ({ key: { appId: 'contract', name: HUB_KEY.name, secret: HUB_KEY.secret }, restUrl: hubUrl }))

const realKey = process.env.ABLY_API_KEY
if (realKey) {
  revocationContract('Ably', () => ({ key: parseAblyEnv({ ABLY_API_KEY: realKey }).key, restUrl: process.env.ABLY_REST_URL ?? DEFAULT_ABLY_REST_URL }))
} else {
  describe('revocation contract: Ably', () => {
    it.skip('runs when ABLY_API_KEY (a key with revocable tokens) is set, e.g. ABLY_API_KEY=… npx vitest run tests/revocation/ably-contract.test.ts', () => {})
  })
}
