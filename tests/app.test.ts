import { HTTPException } from 'hono/http-exception'
import { Hono } from 'hono/tiny'
import { describe, expect, it } from 'vitest'
import type { AppEnv } from '../src/app-env.ts'
import { AppError } from '../src/errors/index.ts'
import { edgeRoutes } from '../src/routes/index.ts'
import { appToken, bearer, TEST_ORIGIN, testApp, testConfig } from './support/fixtures.ts'

const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'cross-origin-resource-policy': 'same-origin',
}

/** Test-only routes that misbehave on purpose, mounted the way the gateway is. */
const misbehaving = () =>
  new Hono<AppEnv>()
    .get('/hang', () => new Promise<Response>(() => {}))
    .get('/crash', () => {
      throw new Error('connection refused at mongodb://user:hunter2@db.internal:27017')
    })
    .get('/status/:status', (c) => {
      throw new HTTPException(Number(c.req.param('status')) as 400)
    })
    .get('/rate', () => {
      throw new AppError('rate_limited', { headers: { 'Retry-After': '7' } })
    })

function app(overrides: Partial<ReturnType<typeof testConfig>> = {}) {
  return testApp({ config: { ...testConfig(), ...overrides }, routes: [...edgeRoutes, misbehaving] })
}

describe('every response', () => {
  const requests: [name: string, path: string, init?: RequestInit][] = [
    ['200 token', '/api/ably/token', { method: 'POST' }],
    ['403 token', '/api/ably/token', { method: 'POST' }],
    ['404', '/nope'],
    ['405', '/api/ably/token', { method: 'PUT' }],
    ['500', '/api/ably/crash'],
    ['504', '/api/ably/hang'],
    ['OPTIONS preflight', '/api/ably/token', { method: 'OPTIONS', headers: { Origin: TEST_ORIGIN, 'Access-Control-Request-Method': 'POST' } }],
  ]
  it.each(requests)('%s carries the security headers and a request id', async (name, path, init = {}) => {
    const headers = new Headers(init.headers)
    if (name === '200 token') for (const [k, v] of Object.entries(bearer(await appToken()))) headers.set(k, v)
    const res = await app({ deadlineMs: 50 }).app.request(path, { ...init, headers })
    for (const [header, value] of Object.entries(SECURITY_HEADERS)) expect(res.headers.get(header), header).toBe(value)
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
    expect(res.headers.get('access-control-allow-origin')).not.toBe('*')
    if (res.status >= 400) {
      const body = await res.json()
      expect(Object.keys(body).sort()).toEqual(['code', 'error', 'requestId'])
      expect(body.requestId).toBe(res.headers.get('x-request-id'))
    }
  })
})

describe('a bare HTTP status from Hono', () => {
  // One generic code per status; 503 once became `ably_unavailable`, a code nothing else used.
  it.each([
    [400, 400, 'invalid_request'],
    [401, 401, 'invalid_token'],
    [403, 403, 'forbidden'],
    [413, 413, 'payload_too_large'],
    [418, 400, 'invalid_request'],
    [429, 429, 'rate_limited'],
    [502, 500, 'internal_error'],
    [503, 500, 'internal_error'],
    [504, 504, 'deadline_exceeded'],
  ])('%i is rendered as %i %s', async (thrown, status, code) => {
    const res = await app().app.request(`/api/ably/status/${thrown}`)
    expect(res.status).toBe(status)
    expect(await res.json()).toMatchObject({ code })
  })
})

describe('request id', () => {
  it.each([
    ['a well-formed incoming id is kept', 'req-123_ABC=', 'req-123_ABC='],
    ['an id with bad characters is replaced', 'abc<script>', undefined],
    ['an id with a newline-like character is replaced', 'abc def', undefined],
    ['an id longer than 64 characters is replaced', 'a'.repeat(65), undefined],
  ])('%s', async (_name, incoming, expected) => {
    const res = await app().app.request('/nope', { headers: { 'X-Request-Id': incoming } })
    const id = res.headers.get('x-request-id')
    if (expected) expect(id).toBe(expected)
    else expect(id).toMatch(/^[0-9a-f-]{36}$/)
    expect((await res.json()).requestId).toBe(id)
  })
})

describe('errors', () => {
  it('404 not_found as JSON', async () => {
    const res = await app().app.request('/api/ably/unknown')
    expect(res.status).toBe(404)
    expect((await res.json()).code).toBe('not_found')
  })

  it('A07: 405 with Allow for a known path and a wrong method', async () => {
    const res = await app().app.request('/api/ably/token', { method: 'DELETE' })
    expect(res.status).toBe(405)
    expect(res.headers.get('allow')).toContain('POST')
    expect((await res.json()).code).toBe('method_not_allowed')
  })

  it('A13: an unexpected exception is a generic 500 with no stack, URI or secret, and is logged scrubbed', async () => {
    const { app: instance, logs } = app()
    const res = await instance.request('/api/ably/crash')
    const text = await res.text()
    expect(res.status).toBe(500)
    expect(JSON.parse(text)).toEqual({ error: 'Internal error.', code: 'internal_error', requestId: res.headers.get('x-request-id') })
    expect(text).not.toMatch(/hunter2|mongodb|at .*\.ts/)
    expect(JSON.stringify(logs)).not.toContain('hunter2')
    expect(logs).toContainEqual(expect.objectContaining({ msg: 'unhandled_error' }))
  })

  it('thrown AppErrors keep their headers', async () => {
    const res = await app().app.request('/api/ably/rate')
    expect(res.status).toBe(429)
    expect(res.headers.get('retry-after')).toBe('7')
  })

  it('a request past the deadline gets 504 JSON with its request id', async () => {
    const res = await app({ deadlineMs: 30 }).app.request('/api/ably/hang', { headers: { 'X-Request-Id': 'slow-1' } })
    expect(res.status).toBe(504)
    expect(await res.json()).toEqual({ error: 'The request took too long to complete.', code: 'deadline_exceeded', requestId: 'slow-1' })
  })
})

describe('body size cap', () => {
  it('A03: an honest Content-Length over the cap is refused with 413 before reading', async () => {
    const res = await app().app.request('/api/ably/token', {
      method: 'POST',
      headers: { ...bearer(await appToken()), 'Content-Length': '20000', 'Content-Type': 'application/json' },
      body: 'x'.repeat(20000),
    })
    expect(res.status).toBe(413)
    expect((await res.json()).code).toBe('payload_too_large')
  })

  it('A04: a streamed body with no length is cut at the cap', async () => {
    const chunk = new Uint8Array(64 * 1024)
    let sent = 0
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 1 << 20) return controller.close()
        sent += chunk.length
        controller.enqueue(chunk)
      },
    })
    const res = await app().app.request('/api/ably/token', {
      method: 'POST',
      headers: { ...bearer(await appToken()), 'Transfer-Encoding': 'chunked' },
      body,
      duplex: 'half',
    } as RequestInit)
    expect(res.status).toBe(413)
    expect(sent).toBeLessThan(1 << 20)
  })
})

describe('CORS', () => {
  it('A08: an allowed origin is echoed with Vary: Origin and no credentials', async () => {
    const res = await app().app.request('/api/ably/token', { method: 'POST', headers: { Origin: TEST_ORIGIN, ...bearer(await appToken()) } })
    expect(res.status).toBe(200)
    expect(res.headers.get('access-control-allow-origin')).toBe(TEST_ORIGIN)
    expect(res.headers.get('vary')).toContain('Origin')
    expect(res.headers.get('access-control-allow-credentials')).toBeNull()
    expect(res.headers.get('access-control-expose-headers')).toContain('X-Request-Id')
    const other = await app().app.request('/api/ably/token', { method: 'POST', headers: { Origin: 'https://evil.example' } })
    expect(other.headers.get('access-control-expose-headers')).toBeNull()
  })

  it.each(['https://evil.example', 'null', 'https://app.example.com.evil.example', 'http://app.example.com'])(
    'an unlisted origin %s gets no CORS grant',
    async (origin) => {
      const res = await app().app.request('/api/ably/token', { method: 'POST', headers: { Origin: origin } })
      expect(res.headers.get('access-control-allow-origin')).toBeNull()
      expect(res.headers.get('vary')).toContain('Origin')
    },
  )

  it('A10: a preflight allows only the explicit header list', async () => {
    const res = await app().app.request('/api/ably/token', {
      method: 'OPTIONS',
      headers: { Origin: TEST_ORIGIN, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'x-evil, authorization' },
    })
    expect(res.status).toBe(204)
    expect(res.headers.get('access-control-allow-origin')).toBe(TEST_ORIGIN)
    expect(res.headers.get('access-control-allow-headers')).toBe('Authorization,Content-Type,Idempotency-Key,X-Request-Id')
    expect(res.headers.get('access-control-allow-methods')).toBe('GET,POST,OPTIONS')
  })

  it('with no CORS_ORIGIN nothing is granted cross-origin', async () => {
    const { app: instance } = testApp({ config: testConfig({ CORS_ORIGIN: '' }) })
    const res = await instance.request('/api/ably/token', { method: 'OPTIONS', headers: { Origin: TEST_ORIGIN, 'Access-Control-Request-Method': 'POST' } })
    expect(res.headers.get('access-control-allow-origin')).toBeNull()
  })
})

describe('request log', () => {
  it('writes one JSON line per request with method, path, status, duration, requestId and userId, never the token', async () => {
    const token = await appToken()
    const { app: instance, logs } = app()
    const res = await instance.request('/api/ably/token?secret=dont-log-me', { method: 'POST', headers: bearer(token) })
    expect(logs).toHaveLength(1)
    expect(logs[0]).toEqual({
      level: 'info',
      msg: 'request',
      method: 'POST',
      path: '/api/ably/token',
      status: 200,
      durationMs: expect.any(Number),
      requestId: res.headers.get('x-request-id'),
      userId: 'alice',
    })
    expect(JSON.stringify(logs)).not.toContain('dont-log-me')
    expect(JSON.stringify(logs)).not.toContain(token)
    expect(JSON.stringify(logs)).not.toContain(String((await res.json()).token))
  })
})
