/** A policy reaches every door: the token handler, the Netlify publish and history functions, the local stack. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createHub, type Hub } from '../../src/hub/index.ts'
import { silentLogger } from '../../src/log/index.ts'
import { tokenRoutes } from '../../src/routes/token.ts'
import { apiHandler } from '../../src/wiring/handlers.ts'
import { historyFunctionFor, publishFunctionFor } from '../../src/wiring/node-gateway.ts'
import { appToken, bearer, testConfig, testEnv } from '../support/fixtures.ts'
import { teamChat } from './team-chat.ts'

let hub: Hub
let env: Record<string, string>
beforeAll(async () => {
  const { key } = testConfig().ably
  hub = createHub({ keys: [{ name: key.name, secret: key.secret }], log: silentLogger })
  env = { ...testEnv, ABLY_REST_URL: (await hub.listen(0)).url, MESSAGE_STORE: 'memory', ABLY_ADMIN_ROLES: 'admin' } as Record<string, string>
})
afterAll(() => hub.close())

const announcement = { title: 'Release', body: 'v2', sentAt: '2026-01-01T00:00:00Z' }
const live = async (claims: Record<string, unknown> = {}) => {
  const now = Math.floor(Date.now() / 1000)
  return bearer(await appToken({ iat: now, exp: now + 600, ...claims }))
}

describe('doors with a policy', () => {
  it('the token handler issues the policy’s capability', async () => {
    const handler = await apiHandler({ routes: [tokenRoutes], settings: ['tokenTtl'], policy: teamChat })(env, silentLogger)
    const res = await handler(new Request('https://site.example/api/ably/token', { method: 'POST', headers: await live() }))
    expect(((await res.json()) as { capability: object }).capability).toMatchObject({ announcements: ['history', 'subscribe'] })
  })

  it('the publish and history functions check and store by the policy', async () => {
    const publish = await publishFunctionFor(teamChat)(env, silentLogger)
    const post = async (headers: Record<string, string>) =>
      publish(
        new Request('https://site.example/api/ably/publish', {
          method: 'POST',
          headers: { ...headers, 'Content-Type': 'application/json' },
          body: JSON.stringify({ channelName: 'announcements', eventName: 'announcement', data: announcement }),
        }),
      )
    expect((await post(await live())).status).toBe(403)
    expect((await post(await live({ role: 'admin' }))).status).toBe(200)
    const history = await historyFunctionFor(teamChat)(env, silentLogger)
    const res = await history(new Request('https://site.example/api/ably/history?channelName=announcements', { headers: await live() }))
    // Each function has its own store in this test (memory); what matters is that the policy's channel is read.
    expect(res.status).toBe(200)
  })
})
