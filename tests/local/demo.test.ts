import { request } from 'node:http'
import { describe, expect, it } from 'vitest'
import { useLocalStack } from '../support/local-stack.ts'

// The demo's page and its dev-only routes, as `npm start` serves them (the page itself runs in tests/browser).
const local = useLocalStack()

/** A JSON POST over node:http, which (unlike fetch) lets a test send any Host header. */
function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers } }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (text += chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as Record<string, unknown> }))
    })
    req.on('error', reject)
    req.end(JSON.stringify(body))
  })
}

describe('the demo', () => {
  it("outside /api too, every answer carries X-Request-Id and every error body names it (as the API's)", async () => {
    const page = await fetch(`${local.stack.url}/`)
    expect(page.headers.get('x-request-id')).toMatch(/^[\w-]{36}$/)
    const unknown = await fetch(`${local.stack.url}/nope`)
    const id = unknown.headers.get('x-request-id')
    expect(id).toMatch(/^[\w-]{36}$/)
    expect([unknown.status, await unknown.json()]).toEqual([404, { error: expect.any(String), code: 'not_found', requestId: id }])
    const crossSite = await fetch(`${local.stack.url}/dev/session`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Request-Id': 'mine-1', Origin: 'http://evil.example' },
      body: '{}',
    })
    expect([crossSite.status, crossSite.headers.get('x-request-id'), ((await crossSite.json()) as { requestId?: string }).requestId]).toEqual([
      403,
      'mine-1',
      'mine-1',
    ])
  })

  it('serves the page with a CSP that lets it reach only itself and the hub, and its script bundled', async () => {
    const page = await fetch(`${local.stack.url}/`)
    expect(page.headers.get('content-security-policy')).toContain(
      `connect-src 'self' ws://localhost:${local.stack.hubPort} http://localhost:${local.stack.hubPort};`,
    )
    expect(await page.text()).toContain('<script type="module" src="/demo.js">')
    const script = await fetch(`${local.stack.url}/demo.js`)
    expect([script.status, script.headers.get('content-type')]).toEqual([200, 'text/javascript; charset=utf-8'])
    expect(await (await fetch(`${local.stack.url}/demo/config.json`)).json()).toEqual({
      ably: { endpoint: 'localhost', port: local.stack.hubPort, tls: false, disconnectedRetryTimeout: 3000, suspendedRetryTimeout: 5000 },
      devLogin: true,
      hubControl: true,
    })
  })

  it('the dev login mints an app JWT the token endpoint accepts', async () => {
    const { status, json } = await post(`${local.stack.url}/dev/session`, { userId: 'alice', ttlSec: 60 })
    expect(status).toBe(200)
    const ably = await fetch(`${local.stack.url}/api/ably/token`, { method: 'POST', headers: { Authorization: `Bearer ${String(json.token)}` } })
    const body = (await ably.json()) as { clientId: string; expiresIn: number }
    expect(body.clientId).toBe('alice')
    // The Ably token ends with the 60 s app JWT: 60 s from now, or 59 when a second boundary passed since it was minted.
    expect([59, 60]).toContain(body.expiresIn)
  })

  it.each([
    ['a bad user id', {}, { userId: 'a:b' }, [400, 'invalid_request']],
    ['a session too long', {}, { userId: 'alice', ttlSec: 999_999 }, [400, 'invalid_request']],
    ['another origin (CSRF)', { Origin: 'https://evil.example' }, { userId: 'alice' }, [403, 'forbidden']],
    ['a host name that is not loopback (DNS rebinding)', { Host: 'evil.example' }, { userId: 'alice' }, [403, 'forbidden']],
    ['a form post', { 'Content-Type': 'application/x-www-form-urlencoded' }, { userId: 'alice' }, [415, 'unsupported_media_type']],
  ])('the dev login refuses %s', async (_case, headers, body, expected) => {
    const { status, json } = await post(`${local.stack.url}/dev/session`, body, headers)
    expect([status, json.code]).toEqual(expected)
  })

  it('stops and starts the hub, keeping its port', async () => {
    expect((await post(`${local.stack.url}/dev/hub/stop`, {})).json).toEqual({ hub: 'stopped' })
    expect(local.stack.hub?.port).toBeUndefined()
    expect((await post(`${local.stack.url}/dev/hub/start`, {})).json).toEqual({ hub: 'running' })
    expect(local.stack.hub?.port).toBe(local.stack.hubPort)
  })

  it('has no dev routes at all (login, hub controls) when the JWT secret is the user’s own, unless DEV_LOGIN=true', async () => {
    const env = { JWT_SECRET: 'set-by-the-user-0123456789-abcdefghijklmnopq' }
    for (const [extra, status] of [
      [{}, 404],
      [{ DEV_LOGIN: 'true' }, 200],
    ] as const) {
      const other = await local.startAnother({ env: { ...env, ...extra } })
      try {
        expect((await post(`${other.url}/dev/session`, { userId: 'alice' })).status).toBe(status)
        // Issue 11, defect 7: the hub controls answered 200 here and stopped the hub.
        expect((await post(`${other.url}/dev/hub/stop`, {})).status).toBe(status)
        if (status === 404) expect(other.hub?.port).toBe(other.hubPort)
        expect((await post(`${other.url}/dev/hub/start`, {})).status).toBe(status)
        expect(other.hub?.port).toBe(other.hubPort)
        const config = (await (await fetch(`${other.url}/demo/config.json`)).json()) as { devLogin: boolean; hubControl: boolean }
        expect(config).toMatchObject({ devLogin: status === 200, hubControl: status === 200 })
      } finally {
        await other.close()
      }
    }
  })
})
