/** `ABLY_REVOCABLE_TOKENS=true npm start`: the hub's key gets revocable tokens and the API keeps its deny-list in memory. */
import { decodeJwt } from 'jose'
import { describe, expect, it } from 'vitest'
import { useLocalStack } from '../support/local-stack.ts'

describe('npm start with ABLY_REVOCABLE_TOKENS=true', () => {
  const fixture = useLocalStack({ env: { ABLY_REVOCABLE_TOKENS: 'true' } })
  const post = (path: string, appToken: string) =>
    fetch(`${fixture.stack.url}/api/ably/${path}`, { method: 'POST', headers: { Authorization: `Bearer ${appToken}` } })

  it('issues revocable tokens, revokes a session at the hub, and refuses its renewal', async () => {
    const appToken = await fixture.stack.mintAppToken('alice')
    const issued = (await (await post('token', appToken)).json()) as { token: string }
    expect(decodeJwt(issued.token)['x-ably-revocation-key']).toEqual(expect.any(String))
    const hubHistory = () =>
      fetch(`http://127.0.0.1:${fixture.stack.hubPort}/channels/${encodeURIComponent('contacts:alice')}/messages`, {
        headers: { Authorization: `Bearer ${btoa(issued.token)}` },
      })
    expect((await hubHistory()).status).toBe(200)

    const revoked = await post('revoke', appToken)
    expect(revoked.status).toBe(200)
    expect((await hubHistory()).status).toBe(401)
    expect((await post('token', appToken)).status).toBe(403)
  })
})
