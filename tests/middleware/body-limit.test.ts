import { Hono } from 'hono/tiny'
import { describe, expect, it } from 'vitest'
import type { AppEnv } from '../../src/app-env.ts'
import { AppError } from '../../src/errors/index.ts'
import { bodyLimit, DISCARD_BYTES } from '../../src/middleware/body-limit/index.ts'
import { lazyBodyLimit } from '../../src/middleware/body-limit/lazy.ts'
import { deadline } from '../../src/middleware/deadline/index.ts'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Behind a 60 ms deadline: a route echoing the body's length, with a 100-byte cap and a 300 ms body budget. */
function app() {
  return new Hono<AppEnv>()
    .use(deadline(60))
    .post('/echo', bodyLimit(100, { timeoutMs: 300 }), async (c) => c.text(String((await c.req.arrayBuffer()).byteLength)))
    .onError((error, c) => {
      if (!(error instanceof AppError)) return c.text('other', 500)
      for (const [name, value] of Object.entries(error.headers)) c.header(name, value)
      return c.text(error.code, error.status)
    })
}

/** A body whose chunks arrive `gapMs` apart. */
function trickle(chunks: string[], gapMs: number, fail?: Error): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder()
  let i = 0
  return new ReadableStream({
    async pull(controller) {
      await sleep(gapMs)
      if (i < chunks.length) return controller.enqueue(encoder.encode(chunks[i++]))
      if (fail) return controller.error(fail)
      controller.close()
    },
  })
}

const post = (body: BodyInit, headers: Record<string, string> = {}) => app().request('/echo', { method: 'POST', body, headers, duplex: 'half' } as RequestInit)

describe('bodyLimit', () => {
  it('gives the body its own budget: a body slower than the deadline but within its budget is read, then the deadline runs in full', async () => {
    const res = await post(trickle(['ab', 'cd'], 50))
    expect([res.status, await res.text()]).toEqual([200, '4'])
  })

  it('answers 408 request_timeout, with Connection: close, for a body that does not arrive within its budget', async () => {
    const res = await post(trickle(['ab', 'cd', 'ef', 'gh'], 120))
    expect([res.status, await res.text(), res.headers.get('connection')]).toEqual([408, 'request_timeout', 'close'])
  })

  it('a declared body a little over the cap is read to its end and refused on a connection that stays open', async () => {
    const declared = await post('x'.repeat(101), { 'Content-Length': '101' })
    expect([declared.status, await declared.text(), declared.headers.get('connection')]).toEqual([413, 'payload_too_large', null])
  })

  it('a declared body over the cap by more than DISCARD_BYTES is refused at once, and one without a length as soon as counted, with Connection: close', async () => {
    const length = 100 + DISCARD_BYTES + 1
    const declared = await post('x'.repeat(length), { 'Content-Length': String(length) })
    expect([declared.status, await declared.text(), declared.headers.get('connection')]).toEqual([413, 'payload_too_large', 'close'])
    const counted = await post(trickle(['x'.repeat(60), 'x'.repeat(60)], 1))
    expect([counted.status, await counted.text(), counted.headers.get('connection')]).toEqual([413, 'payload_too_large', 'close'])
  })

  it('a body that breaks off (the client went away) is a 400, not a 500', async () => {
    const res = await post(trickle(['ab'], 1, new Error('aborted')))
    expect([res.status, await res.text()]).toEqual([400, 'invalid_request'])
  })
})

describe('lazyBodyLimit (the token route)', () => {
  /** A request that counts reads of its body: on Node, @hono/node-server builds a whole Request for the first. */
  class CountingRequest extends Request {
    bodyReads = 0
    override get body() {
      this.bodyReads++
      return super.body
    }
  }
  const limited = () =>
    new Hono<AppEnv>()
      .on(['GET', 'POST'], '/token', lazyBodyLimit(100), (c) => c.text('ok'))
      .onError((error, c) => (error instanceof AppError ? c.text(error.code, error.status) : c.text('other', 500)))

  it('decides from the headers alone when there is no body: GET, and POST with Content-Length 0', async () => {
    for (const init of [{ method: 'GET' }, { method: 'POST', headers: { 'content-length': '0' } }]) {
      const request = new CountingRequest('http://localhost/token', init)
      const res = await limited().fetch(request)
      expect(await res.text()).toBe('ok')
      expect(request.bodyReads).toBe(0)
    }
  })

  it('a chunked body is capped even when a Content-Length of 0 comes with it (bodyLimit believes no such length)', async () => {
    const res = await limited().request('/token', {
      method: 'POST',
      headers: { 'content-length': '0', 'transfer-encoding': 'chunked' },
      body: new Blob(['x'.repeat(200)]).stream(),
      duplex: 'half',
    } as RequestInit)
    expect(res.status).toBe(413)
  })

  it('caps a body as bodyLimit does, once it is loaded', async () => {
    const res = await limited().request('/token', { method: 'POST', body: 'x'.repeat(101) })
    expect(res.status).toBe(413)
    expect(await res.text()).toBe('payload_too_large')
    expect(await (await limited().request('/token', { method: 'POST', body: 'x'.repeat(100) })).text()).toBe('ok')
  })
})
