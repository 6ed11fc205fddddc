/** The real Netlify Node entry files: import without any variable, config checked on the first request, routes as the table says. */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { NETLIFY_FUNCTIONS } from '../../src/deploy/functions.ts'
import { createHub, type Hub } from '../../src/hub/index.ts'
import { appToken, bearer, testConfig, testEnv } from '../support/fixtures.ts'
import { assertConfigErrorResponse } from '../support/runtime.ts'
import { ownMessages } from './support.ts'

let hub: Hub
let hubUrl: string

// The entry files log JSON lines to stdout, as on Netlify; captured, and kept out of the test output.
const stdout = vi.spyOn(console, 'log').mockImplementation(() => {})
const logLines = () => stdout.mock.calls.map(([line]) => JSON.parse(String(line)) as Record<string, unknown>)

beforeAll(async () => {
  const { key } = testConfig().ably
  hub = createHub({ keys: [{ name: key.name, secret: key.secret }] })
  hubUrl = (await hub.listen(0)).url
})
afterAll(() => hub.close())
afterEach(() => vi.unstubAllEnvs())

type Entry = { default: (request: Request, context?: unknown) => Promise<Response>; config: Record<string, unknown> }

/** Imports an entry file afresh with an empty environment: importing must never throw or read a variable. */
async function load(name: 'ably-publish' | 'ably-history' | 'ably-outbox' | 'ably-health' | 'ably-revoke'): Promise<Entry> {
  vi.resetModules()
  for (const variable of Object.keys(process.env)) if (/^(ABLY|JWT|MONGODB|MESSAGE|PUBLISH|OUTBOX|CORS)_/.test(variable)) vi.stubEnv(variable, undefined)
  return (await import(`../../netlify/functions/${name}.mts`)) as Entry
}

/** Sets the process environment the function reads on its first request. */
function setEnv(env: Record<string, string | undefined>) {
  for (const [name, value] of Object.entries({ ...testEnv, ABLY_REST_URL: hubUrl, ...env })) vi.stubEnv(name, value)
}

const liveToken = async () => {
  const now = Math.floor(Date.now() / 1000)
  return bearer(await appToken({ iat: now, exp: now + 600 }))
}

describe('netlify/functions', () => {
  it('each entry declares exactly its row of the route table, with no `method` (our app answers every method)', async () => {
    for (const name of ['ably-publish', 'ably-history', 'ably-outbox', 'ably-health', 'ably-revoke'] as const) {
      const { path, rateLimit, schedule } = NETLIFY_FUNCTIONS[name] as { path?: string; rateLimit?: object; schedule?: string }
      expect((await load(name)).config).toEqual({ ...(path && { path }), ...(rateLimit && { rateLimit }), ...(schedule && { schedule }) })
    }
  })

  it('ably-revoke refuses ABLY_TOKEN_TTL over an hour with revocation on (config_error), and is 404 with it off', async () => {
    const entry = await load('ably-revoke')
    setEnv({ ABLY_REVOCABLE_TOKENS: 'true', ABLY_TOKEN_TTL: '7200' })
    stdout.mockClear()
    await assertConfigErrorResponse(await entry.default(new Request('https://site.example/api/ably/revoke', { method: 'POST' })))
    expect(logLines().find((line) => line.msg === 'config_error')?.variables).toEqual(['ABLY_TOKEN_TTL'])

    const off = await load('ably-revoke')
    setEnv({})
    const res = await off.default(new Request('https://site.example/api/ably/revoke', { method: 'POST', headers: await liveToken() }))
    expect(res.status).toBe(404)
  })

  it('ably-publish without a durable store answers the generic 500 and logs one config_error naming MONGODB_URI', async () => {
    const entry = await load('ably-publish')
    setEnv({})
    stdout.mockClear()
    for (let i = 0; i < 2; i++) await assertConfigErrorResponse(await entry.default(new Request('https://site.example/api/ably/publish', { method: 'POST' })))
    const errors = logLines().filter((line) => line.msg === 'config_error')
    expect(errors.map((line) => line.variables)).toEqual([['MONGODB_URI'], ['MONGODB_URI']])
  })

  it('ably-publish names every bad variable of the API and the gateway in one config_error', async () => {
    const entry = await load('ably-publish')
    setEnv({ JWT_SECRET: 'short', MESSAGE_STORE: 'postgres', PUBLISH_MAX_BATCH: '9999' })
    stdout.mockClear()
    await assertConfigErrorResponse(await entry.default(new Request('https://site.example/api/ably/publish', { method: 'POST' })))
    const [error] = logLines().filter((line) => line.msg === 'config_error')
    expect(error?.variables).toEqual(['JWT_SECRET', 'MESSAGE_STORE', 'PUBLISH_MAX_BATCH'])
    expect(JSON.stringify(error)).not.toContain(testEnv.ABLY_API_KEY?.split(':')[1])
  })

  it('ably-publish publishes to Ably (the hub), built once on the first request', async () => {
    const entry = await load('ably-publish')
    setEnv({ MESSAGE_STORE: 'memory' })
    const publish = async (idempotencyKey: string) =>
      entry.default(
        new Request('https://site.example/api/ably/publish', {
          method: 'POST',
          headers: { ...(await liveToken()), 'Content-Type': 'application/json', 'Idempotency-Key': idempotencyKey },
          body: JSON.stringify(ownMessages()[1]),
        }),
      )
    const res = await publish('k-1')
    expect(res.status).toBe(200)
    const { messageId } = (await res.json()) as { messageId: string }
    // The same app (and its store) answers the retry: it is replayed, not published again.
    const retry = await publish('k-1')
    expect(retry.headers.get('idempotent-replayed')).toBe('true')
    const history = await fetch(`${hubUrl}/channels/${encodeURIComponent('contacts:alice')}/messages`, {
      headers: { authorization: `Basic ${btoa(testEnv.ABLY_API_KEY ?? '')}`, accept: 'application/json' },
    })
    expect(((await history.json()) as { id: string }[]).map((message) => message.id)).toEqual([messageId])
  })

  it('ably-publish on an unpublished deploy (a preview) says that a queued message will not be swept there', async () => {
    const entry = await load('ably-publish')
    // Ably unreachable: the message is stored and queued after the shortest delivery budget.
    setEnv({ MESSAGE_STORE: 'memory', ABLY_REST_URL: 'http://127.0.0.1:9', PUBLISH_DELIVERY_BUDGET_MS: '100' })
    const publish = async (context: unknown) =>
      entry.default(
        new Request('https://site.example/api/ably/publish', {
          method: 'POST',
          headers: { ...(await liveToken()), 'Content-Type': 'application/json' },
          body: JSON.stringify(ownMessages()[1]),
        }),
        context,
      )
    stdout.mockClear()
    expect((await publish({ deploy: { context: 'production', published: true } })).status).toBe(202)
    expect(logLines().filter((line) => line.msg === 'queued_on_unpublished_deploy')).toEqual([])
    const res = await publish({ deploy: { context: 'deploy-preview', published: false } })
    expect(res.status).toBe(202)
    expect(logLines().filter((line) => line.msg === 'queued_on_unpublished_deploy')).toEqual([
      expect.objectContaining({ level: 'warn', deployContext: 'deploy-preview', requestId: res.headers.get('x-request-id') }),
    ])
  })

  it('ably-publish answers every other method on its path with our JSON 405 and Allow', async () => {
    const entry = await load('ably-publish')
    setEnv({ MESSAGE_STORE: 'memory' })
    for (const method of ['GET', 'PUT', 'PATCH', 'DELETE']) {
      const res = await entry.default(new Request('https://site.example/api/ably/publish', { method }))
      expect([res.status, res.headers.get('allow'), ((await res.json()) as { code: string }).code]).toEqual([405, 'POST, OPTIONS', 'method_not_allowed'])
    }
  })

  it('ably-history serves GET /api/ably/history', async () => {
    const entry = await load('ably-history')
    setEnv({ MESSAGE_STORE: 'memory' })
    stdout.mockClear()
    const res = await entry.default(new Request('https://site.example/api/ably/history?channelName=contacts:alice', { headers: await liveToken() }))
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ channelName: 'contacts:alice', messages: [], next: null })
    expect(logLines().map((line) => line.msg)).toEqual(['memory_store', 'request'])
  })

  it.each([
    ['JWT_SECRET', 'short'],
    ['CORS_ORIGIN', '*'],
    ['PUBLISH_MAX_BATCH', '9999'],
  ])('ably-outbox still sweeps with a broken %s, which it never reads', async (name, value) => {
    const entry = await load('ably-outbox')
    setEnv({ MESSAGE_STORE: 'memory', [name]: value })
    const res = await entry.default(new Request('https://site.example/.netlify/functions/ably-outbox', { method: 'POST' }))
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ rounds: 0, claimed: 0, published: 0, pending: 0, failed: 0, expired: 0 })
  })

  it('ably-outbox logs one `health` line per scheduled run, with the backlog figures', async () => {
    const entry = await load('ably-outbox')
    setEnv({ MESSAGE_STORE: 'memory' })
    stdout.mockClear()
    await entry.default(new Request('https://site.example/.netlify/functions/ably-outbox', { method: 'POST' }))
    await entry.default(new Request('https://site.example/.netlify/functions/ably-outbox', { method: 'POST' }))
    expect(logLines().filter((line) => line.msg === 'health')).toEqual([
      {
        time: expect.any(String),
        level: 'info',
        msg: 'health',
        status: 'healthy',
        pending: 0,
        oldestPendingAgeSec: null,
        failedLast24h: 0,
        storeLatencyMs: expect.any(Number),
      },
      expect.objectContaining({ msg: 'health', status: 'healthy' }),
    ])
  })

  it('ably-health serves GET /api/ably/health: status only, cacheable, to anonymous callers; no durable store is a config error', async () => {
    const entry = await load('ably-health')
    setEnv({ MESSAGE_STORE: 'memory' })
    const res = await entry.default(new Request('https://site.example/api/ably/health'))
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ status: 'healthy', timestamp: expect.any(String) })
    expect(res.headers.get('netlify-cdn-cache-control')).toBe('public, max-age=5, must-revalidate')
    const durable = await load('ably-health')
    setEnv({})
    stdout.mockClear()
    await assertConfigErrorResponse(await durable.default(new Request('https://site.example/api/ably/health')))
    expect(logLines().find((line) => line.msg === 'config_error')?.variables).toEqual(['MONGODB_URI'])
  })

  it('ably-outbox with a bad Ably key answers the generic 500 naming ABLY_API_KEY', async () => {
    const entry = await load('ably-outbox')
    setEnv({ MESSAGE_STORE: 'memory', ABLY_API_KEY: 'nope' })
    stdout.mockClear()
    await assertConfigErrorResponse(await entry.default(new Request('https://site.example/.netlify/functions/ably-outbox', { method: 'POST' })))
    expect(logLines().find((line) => line.msg === 'config_error')?.variables).toEqual(['ABLY_API_KEY'])
  })
})
