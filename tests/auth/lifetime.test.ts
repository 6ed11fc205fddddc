/**
 * One rule for "no lifetime left" on every route that verifies an app JWT, and one `WWW-Authenticate` that tells an
 * expired token from an invalid one (issue 11, friction: token vs publish; RFC 6750 `error_description`).
 */
import { describe, expect, it } from 'vitest'
import { appToken, bearer, NOW_SEC, testApp } from '../support/fixtures.ts'
import { gatewayApp, smsMessage } from '../gateway/support.ts'

const EXPIRED = 'Bearer error="invalid_token", error_description="The access token expired"'
const INVALID = 'Bearer error="invalid_token", error_description="The access token is missing or invalid"'

async function askAll(headers: Record<string, string>) {
  const token = await testApp().app.request('/api/ably/token', { method: 'POST', headers })
  const { app } = gatewayApp()
  const publish = await app.request('/api/ably/publish', {
    method: 'POST',
    headers: { ...headers, 'Content-Type': 'application/json' },
    body: JSON.stringify({ channelName: 'sms:alice:c1', eventName: 'message', data: smsMessage() }),
  })
  const history = await app.request('/api/ably/history?channelName=sms:alice:c1', { headers })
  return { token, publish, history }
}

describe('an app JWT with no lifetime left', () => {
  it.each([
    ['exp = now', NOW_SEC],
    ['exp inside the clock tolerance', NOW_SEC - 4],
    ['exp just past the tolerance', NOW_SEC - 6],
  ])('%s is refused as expired by the token route, publish and history alike', async (_name, exp) => {
    const { token, publish, history } = await askAll(bearer(await appToken({ exp })))
    expect([token.status, publish.status, history.status]).toEqual([403, 401, 401])
    for (const res of [token, publish, history]) expect(res.headers.get('www-authenticate')).toBe(EXPIRED)
  })

  it('one second of lifetime is accepted everywhere', async () => {
    const { token, publish, history } = await askAll(bearer(await appToken({ exp: NOW_SEC + 1 })))
    expect([token.status, publish.status, history.status]).toEqual([200, 200, 200])
  })

  it('a forged, malformed or missing token is "invalid", never "expired", even when its exp has passed', async () => {
    const forged = await appToken({ exp: NOW_SEC - 60 }, { secret: 'another-secret-another-secret-another-secret' })
    for (const headers of [bearer(forged), bearer('a.b.c'), {}]) {
      const { token, publish, history } = await askAll(headers)
      expect([token.status, publish.status, history.status]).toEqual([403, 401, 401])
      for (const res of [token, publish, history]) expect(res.headers.get('www-authenticate')).toBe(INVALID)
    }
  })
})
