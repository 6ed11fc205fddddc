/** The real Netlify Node entry files: config checked at load, requests served, the schedule declared. */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { createHub, type Hub } from '../../src/hub/index.ts'
import { appToken, bearer, testConfig, testEnv } from '../support/fixtures.ts'
import { ownMessages } from './support.ts'

let hub: Hub
let hubUrl: string

// The entry files log JSON lines to stdout, as on Netlify; kept out of the test output.
const stdout = vi.spyOn(console, 'log').mockImplementation(() => {})

beforeAll(async () => {
  const { key } = testConfig().ably
  hub = createHub({ keys: [{ name: key.name, secret: key.secret }] })
  hubUrl = (await hub.listen(0)).url
})
afterAll(() => hub.close())

/** Imports an entry file afresh with `env` as its process environment. */
async function load(file: string, env: Record<string, string>) {
  vi.resetModules()
  for (const [name, value] of Object.entries({ ...testEnv, ABLY_REST_URL: hubUrl, ...env })) vi.stubEnv(name, value)
  try {
    return (await import(`../../netlify/functions/${file}`)) as { default: (request: Request) => Promise<Response>; config: Record<string, unknown> }
  } finally {
    vi.unstubAllEnvs()
  }
}

const liveToken = async () => {
  const now = Math.floor(Date.now() / 1000)
  return bearer(await appToken({ iat: now, exp: now + 600 }))
}

describe('netlify/functions', () => {
  it('ably-publish refuses to load without a durable store', async () => {
    await expect(load('ably-publish.mts', {})).rejects.toThrow(/MONGODB_URI is not set/)
  })

  it('ably-publish publishes to Ably (the hub) and declares its path, methods and platform rate limit', async () => {
    const entry = await load('ably-publish.mts', { MESSAGE_STORE: 'memory' })
    expect(entry.config).toEqual({ path: '/api/ably/publish', method: ['POST', 'OPTIONS'], rateLimit: { windowLimit: 120, windowSize: 60, aggregateBy: ['ip', 'domain'] } })
    const res = await entry.default(new Request('https://site.example/api/ably/publish', {
      method: 'POST',
      headers: { ...(await liveToken()), 'Content-Type': 'application/json' },
      body: JSON.stringify(ownMessages()[1]),
    }))
    expect(res.status).toBe(200)
    const { messageId } = (await res.json()) as { messageId: string }
    const history = await fetch(`${hubUrl}/channels/${encodeURIComponent('contacts:alice')}/messages`, {
      headers: { authorization: `Basic ${btoa(testEnv.ABLY_API_KEY ?? '')}`, accept: 'application/json' },
    })
    expect(((await history.json()) as { id: string }[]).map((message) => message.id)).toEqual([messageId])
  })

  it('ably-history serves GET /api/ably/history', async () => {
    stdout.mockClear()
    const entry = await load('ably-history.mts', { MESSAGE_STORE: 'memory' })
    expect(stdout.mock.calls.map(([line]) => JSON.parse(String(line)).msg)).toEqual(['memory_store'])
    expect(entry.config).toMatchObject({ path: '/api/ably/history', method: ['GET', 'OPTIONS'] })
    const res = await entry.default(new Request('https://site.example/api/ably/history?channelName=contacts:alice', { headers: await liveToken() }))
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ channelName: 'contacts:alice', messages: [], next: null })
  })

  it('ably-outbox is scheduled every minute and answers with its sweep report', async () => {
    const entry = await load('ably-outbox.mts', { MESSAGE_STORE: 'memory' })
    expect(entry.config).toEqual({ schedule: '* * * * *' })
    const res = await entry.default(new Request('https://site.example/.netlify/functions/ably-outbox', { method: 'POST' }))
    expect(await res.json()).toEqual({ rounds: 0, claimed: 0, published: 0, pending: 0, failed: 0, expired: 0 })
  })
})
