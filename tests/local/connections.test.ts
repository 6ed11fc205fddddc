/**
 * What the Node listeners do with connections, through raw loopback sockets: keep-alive after a refused body, a
 * client that goes away mid-body, a slow body, slow headers (issue 11, defects 1, 2, 3 and 11).
 */
import { describe, expect, it } from 'vitest'
import type { LogEntry } from '../../src/log/index.ts'
import { HEADERS_TIMEOUT_MS } from '../../src/node-listener/index.ts'
import { BODY_TIMEOUT_MS } from '../../src/middleware/body-limit/index.ts'
import { smsMessage } from '../gateway/support.ts'
import { useLocalStack } from '../support/local-stack.ts'
import { rawConnection, rawRequest, type RawConnection, type RawResponse } from '../support/raw-http.ts'

const logs: LogEntry[] = []
const fixture = useLocalStack({ log: (entry) => void logs.push(entry) })
const port = () => Number(new URL(fixture.stack.url).port)
const hubPort = () => Number(fixture.stack.hubPort)
/** A hub REST publish that announces 100 bytes of body. */
const hubPublishHeaders = () => rawRequest('POST', '/channels/sms:alice:c1/messages', { 'Content-Type': 'application/json', 'Content-Length': '100' })
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const message = (text = 'hi') => JSON.stringify({ channelName: 'sms:alice:c1', eventName: 'message', data: smsMessage('alice', 'c1', { message: text }) })
async function publishHeaders(length: number) {
  return { Authorization: `Bearer ${await fixture.stack.mintAppToken('alice')}`, 'Content-Type': 'application/json', 'Content-Length': String(length) }
}

/** The rule for keep-alive: the next request on a connection is answered, unless the previous answer said close. */
async function expectNextAnsweredOrClosed(connection: RawConnection, previous: RawResponse | 'closed', next: string) {
  expect(previous).not.toBe('closed')
  const saidClose = (previous as RawResponse).headers.connection === 'close'
  connection.write(next)
  const answer = await connection.response(3000)
  if (!saidClose) expect(answer).not.toBe('closed')
  return { saidClose, answer }
}

describe('keep-alive after a refused body (defect 1)', () => {
  it('a 413 for an honest 600 KiB body reads that body to its end and keeps the connection: the next publish is answered', async () => {
    const big = 'x'.repeat(600 * 1024)
    const connection = await rawConnection(port())
    connection.write(rawRequest('POST', '/api/ably/publish', await publishHeaders(big.length)))
    connection.write(big)
    const refused = await connection.response()
    expect(refused).toMatchObject({ status: 413, headers: { connection: 'keep-alive' } })
    const body = message()
    const { answer } = await expectNextAnsweredOrClosed(
      connection,
      refused,
      rawRequest('POST', '/api/ably/publish', await publishHeaders(Buffer.byteLength(body)), body),
    )
    expect(answer).toMatchObject({ status: 200 })
    connection.destroy()
  })

  it('a 413 for a body far over the cap, answered before it arrives, says Connection: close', async () => {
    const connection = await rawConnection(port())
    connection.write(rawRequest('POST', '/api/ably/publish', await publishHeaders(4 * 1024 * 1024)) + 'x'.repeat(1000))
    const refused = await connection.response()
    expect(refused).toMatchObject({ status: 413, headers: { connection: 'close' } })
    const body = message()
    await expectNextAnsweredOrClosed(connection, refused, rawRequest('POST', '/api/ably/publish', await publishHeaders(Buffer.byteLength(body)), body))
    connection.destroy()
  })

  it('any answer given before the body arrived says close; one given after keeps the connection', async () => {
    const connection = await rawConnection(port())
    // A route that never reads bodies, with a body still on its way.
    connection.write(`${rawRequest('POST', '/api/ably/nowhere', { 'Content-Length': String(600 * 1024) })}${'y'.repeat(1000)}`)
    expect(await connection.response()).toMatchObject({ status: 404, headers: { connection: 'close' } })
    connection.destroy()

    const kept = await rawConnection(port())
    for (let i = 0; i < 3; i++) {
      const body = message(`kept ${i}`)
      kept.write(rawRequest('POST', '/api/ably/publish', await publishHeaders(Buffer.byteLength(body)), body))
      const answer = await kept.response()
      expect(answer).toMatchObject({ status: 200, headers: { connection: 'keep-alive' } })
    }
    kept.destroy()
  })
})

describe('a client that goes away mid-body (defect 2)', () => {
  it('is no 5xx and no error-level log line', async () => {
    logs.length = 0
    const body = message()
    const connection = await rawConnection(port())
    connection.write(rawRequest('POST', '/api/ably/publish', await publishHeaders(Buffer.byteLength(body))) + body.slice(0, 20))
    await sleep(100)
    connection.destroy()
    await expect.poll(() => logs.filter((entry) => entry.msg === 'request').length).toBe(1)
    const [line] = logs.filter((entry) => entry.msg === 'request')
    expect(line).toMatchObject({ level: 'warn', status: 400, code: 'invalid_request', reason: 'client went away mid-body' })
    expect(logs.filter((entry) => entry.level === 'error')).toEqual([])
  })

  it("on the hub's REST API too: a client's doing (40000, 400), never hub.internal_error", async () => {
    logs.length = 0
    const connection = await rawConnection(hubPort())
    connection.write(`${hubPublishHeaders()}{"name":`)
    await sleep(100)
    connection.destroy()
    await expect.poll(() => logs.filter((entry) => entry.event === 'hub.rest.error').length).toBe(1)
    expect(logs.filter((entry) => entry.event === 'hub.rest.error')).toMatchObject([{ component: 'hub', method: 'POST', code: 40000 }])
    expect(logs.filter((entry) => entry.event === 'hub.internal_error')).toEqual([])
  })
})

describe.concurrent('slow clients, side by side', () => {
  describe('a slow upload (defect 3)', () => {
    it('a body that arrives 5.2 s after its headers is stored and published: the wait is not charged to the store', async () => {
      const body = message('slow')
      const connection = await rawConnection(port())
      connection.write(rawRequest('POST', '/api/ably/publish', await publishHeaders(Buffer.byteLength(body))))
      await sleep(5200)
      connection.write(body)
      const answer = await connection.response()
      expect(answer).toMatchObject({ status: 200, headers: { connection: 'keep-alive' } })
      expect(JSON.parse((answer as RawResponse).body)).toMatchObject({ status: 'published' })
      connection.destroy()
    }, 15_000)

    it(
      'a body that does not arrive within its budget gets 408 request_timeout and Connection: close, not 503',
      async () => {
        const body = message('never')
        const connection = await rawConnection(port())
        const started = performance.now()
        connection.write(rawRequest('POST', '/api/ably/publish', await publishHeaders(Buffer.byteLength(body))) + body.slice(0, 10))
        const answer = await connection.response(BODY_TIMEOUT_MS + 3000)
        const waited = performance.now() - started
        expect(answer).toMatchObject({ status: 408, headers: { connection: 'close' } })
        expect(JSON.parse((answer as RawResponse).body)).toMatchObject({ code: 'request_timeout' })
        expect(waited).toBeGreaterThanOrEqual(BODY_TIMEOUT_MS - 50)
        expect(await connection.response()).toBe('closed')
      },
      BODY_TIMEOUT_MS + 10_000,
    )

    it(
      "the hub's REST API holds a body to the same budget: 408 and Connection: close",
      async () => {
        const connection = await rawConnection(hubPort())
        const started = performance.now()
        connection.write(`${hubPublishHeaders()}{"name":`)
        const trickle = setInterval(() => connection.write(' '), 1000)
        try {
          const answer = await connection.response(BODY_TIMEOUT_MS + 3000)
          const waited = performance.now() - started
          expect(answer).toMatchObject({ status: 408, headers: { connection: 'close' } })
          expect(JSON.parse((answer as RawResponse).body)).toMatchObject({ error: { code: 40000, statusCode: 408 } })
          expect(waited).toBeGreaterThanOrEqual(BODY_TIMEOUT_MS - 50)
          expect(waited).toBeLessThan(BODY_TIMEOUT_MS + 3000)
        } finally {
          clearInterval(trickle)
          connection.destroy()
        }
      },
      BODY_TIMEOUT_MS + 10_000,
    )
  })

  describe('slow headers (defect 11)', () => {
    it.each(['API', 'hub'] as const)(
      'the %s listener closes a connection whose headers have not arrived within the bound',
      async (which) => {
        const target = which === 'API' ? port() : (fixture.stack.hubPort as number)
        const connection = await rawConnection(target)
        const started = performance.now()
        connection.write('GET /api/ably/stats HTTP/1.1\r\nHost: localhost\r\n')
        const trickle = setInterval(() => connection.write('X-Slow: 1\r\n'), 1000)
        try {
          const answer = await connection.response(HEADERS_TIMEOUT_MS + 5000)
          const at = performance.now() - started
          // Node answers 408 and closes; its default would have waited 60 s and more.
          if (answer !== 'closed') expect(answer.status).toBe(408)
          expect(at).toBeLessThan(HEADERS_TIMEOUT_MS + 2500)
          expect(at).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 50)
        } finally {
          clearInterval(trickle)
          connection.destroy()
        }
      },
      HEADERS_TIMEOUT_MS + 10_000,
    )
  })
})
