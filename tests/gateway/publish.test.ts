/** POST /api/ably/publish: the channel (C*) and abuse (A*) cases of ../shared/reference/security-cases.md, and the happy path. */
import { describe, expect, it } from 'vitest'
import { FORBIDDEN_CHANNEL_MESSAGE } from '../../src/gateway/prepare.ts'
import { appToken, HOSTILE_CHANNEL_NAMES, NOW, TEST_ORIGIN } from '../support/fixtures.ts'
import { gatewayApp, ownMessages, publish, smsMessage } from './support.ts'

const forbiddenBody = (requestId: string | null) => ({ error: FORBIDDEN_CHANNEL_MESSAGE, code: 'forbidden', requestId })

/** Publishes `body` as alice on a fresh app: refused with `status` and `code`, and Ably never called. */
async function expectRefused(body: unknown, status: number, code: string) {
  const { app, ably } = gatewayApp()
  const response = await publish(app, body)
  expect([response.status, response.body.code]).toEqual([status, code])
  expect(ably.requests).toBe(0)
}

describe('C01/C02: own channels publish, others are forbidden', () => {
  it.each(ownMessages('alice'))('C01 $channelName → 200 published, exactly one message at Ably with id = messageId', async (message) => {
    const { app, ably, store } = gatewayApp()
    const { status, body, res } = await publish(app, message)
    expect(status).toBe(200)
    expect(body).toEqual({
      success: true,
      status: 'published',
      channelName: message.channelName,
      messageId: expect.stringMatching(/^msg-[0-9a-f-]{36}$/),
      timestamp: new Date(NOW).toISOString(),
    })
    expect(res.headers.get('cache-control')).toBe('no-store')
    expect(ably.delivered).toEqual([{ channel: message.channelName, message: { id: body.messageId, name: message.eventName, data: message.data } }])
    expect((await store.findByIds([String(body.messageId)]))[0]).toMatchObject({ status: 'published', attempts: 1, publisherId: 'alice', ownerId: 'alice' })
  })

  it.each(ownMessages('bob'))('C02 $channelName → 403 with the original message, nothing stored or published', async (message) => {
    const { app, ably, store } = gatewayApp()
    const { status, body, res } = await publish(app, message)
    expect(status).toBe(403)
    expect(body).toEqual(forbiddenBody(res.headers.get('x-request-id')))
    expect(ably.requests).toBe(0)
    expect(await store.history({ channelName: message.channelName, limit: 10 })).toEqual([])
  })

  it('C04: sms:Alice:c1 is someone else (no case folding) → 403', async () => {
    const { app } = gatewayApp()
    expect((await publish(app, { channelName: 'sms:Alice:c1', eventName: 'message', data: smsMessage('Alice') })).status).toBe(403)
  })

  it.each(ownMessages('bob'))('an ABLY_ADMIN_ROLES role may publish to $channelName', async (message) => {
    const { app, ably } = gatewayApp()
    const { status } = await publish(app, message, { token: await appToken({ role: 'support' }) })
    expect(status).toBe(200)
    expect(ably.delivered).toHaveLength(1)
  })
})

describe('hostile channel names (C03–C22) → 400 invalid_channel, nothing stored', () => {
  const names: unknown[] = [...HOSTILE_CHANNEL_NAMES, 123, ['sms:alice:c1'], {}, null, true, undefined]
  it.each(names.map((name) => [JSON.stringify(name)?.slice(0, 60), name]))('%s', async (_label, channelName) => {
    await expectRefused({ channelName, eventName: 'message', data: smsMessage() }, 400, 'invalid_channel')
  })

  it('C24: prototype keys are refused and pollute nothing', async () => {
    const { app } = gatewayApp()
    for (const raw of ['{"__proto__":{"channelName":"sms:bob:x"}}', '{"constructor":{"prototype":{"x":1}}}']) {
      const { status } = await publish(app, undefined, { raw })
      expect(status).toBe(400)
    }
    expect(({} as Record<string, unknown>).channelName).toBeUndefined()
  })
})

describe('C26: event names', () => {
  it.each(['', 'x'.repeat(65), 'msg\n', '__proto__', 'constructor', 'MESSAGE', 'update', 123, null])(
    '%j on an sms channel → 400 invalid_event',
    async (eventName) => {
      await expectRefused({ channelName: 'sms:alice:c1', eventName, data: smsMessage() }, 400, 'invalid_event')
    },
  )

  it('sms_received belongs to notifications, not to a conversation', async () => {
    const { app } = gatewayApp()
    const data = { phoneNumberId: 'p1', from: '+15550100', message: 'hi', timestamp: '2024-01-15T10:30:00Z' }
    expect((await publish(app, { channelName: 'sms:alice:c1', eventName: 'sms_received', data })).status).toBe(400)
    expect((await publish(app, { channelName: 'notifications:alice', eventName: 'sms_received', data })).status).toBe(200)
  })
})

describe('payload checks', () => {
  it.each([
    ['an unknown field', smsMessage('alice', 'c1', { admin: true })],
    ['a wrong direction', smsMessage('alice', 'c1', { direction: 'sideways' })],
    ['a non-ISO timestamp', smsMessage('alice', 'c1', { timestamp: 'yesterday' })],
    ['userId of another user', smsMessage('bob', 'c1')],
    ['contactId of another conversation', smsMessage('alice', 'c2')],
    ['a missing field', { ...smsMessage(), phoneNumberId: undefined }],
    ['no data', undefined],
    ['data as a string', 'hello'],
  ])('message with %s → 400 invalid_payload', async (_name, data) => {
    await expectRefused({ channelName: 'sms:alice:c1', eventName: 'message', data }, 400, 'invalid_payload')
  })

  it('names the failing field, never its value', async () => {
    const { app } = gatewayApp()
    const { body } = await publish(app, { channelName: 'sms:alice:c1', eventName: 'message', data: smsMessage('alice', 'c1', { direction: 'secret-value' }) })
    expect(body.details).toEqual({ issues: [{ path: 'direction', message: expect.any(String) }] })
    expect(JSON.stringify(body)).not.toContain('secret-value')
  })

  it('a contact carrying another userId → 400', async () => {
    const { app } = gatewayApp()
    const { status } = await publish(app, {
      channelName: 'contacts:alice',
      eventName: 'update',
      data: { action: 'update', contact: { id: 'c1', userId: 'bob' } },
    })
    expect(status).toBe(400)
  })

  it('unknown top-level fields → 400 invalid_request', async () => {
    const { app } = gatewayApp()
    const { status, body } = await publish(app, { ...ownMessages()[0], clientId: '*' })
    expect(status).toBe(400)
    expect(body).toMatchObject({ code: 'invalid_request', details: { fields: ['clientId'] } })
  })
})

describe('64 KiB as Ably counts it → 413', () => {
  const withData = (bytes: number) => ({
    channelName: 'notifications:alice',
    eventName: 'update',
    data: { type: 'x', message: 'y', timestamp: '2024-01-15T10:30:00Z', pad: 'é'.repeat(bytes / 2) },
  })

  it('counts UTF-8 bytes of name + JSON data: over 65 536 → 413, nothing published', async () => {
    await expectRefused(withData(66_000), 413, 'payload_too_large')
  })

  it('a message under the limit but with a bad schema is a 400, not a 413', async () => {
    const { app } = gatewayApp()
    expect((await publish(app, withData(1000))).status).toBe(400)
  })
})

describe('abuse and hygiene (A03–A08, A12, A13)', () => {
  it('A03: Content-Length over the cap → 413 without reading the body', async () => {
    const { app } = gatewayApp()
    const res = await app.request('/api/ably/publish', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Content-Length': String(600 * 1024), Authorization: `Bearer ${await appToken()}` },
      body: 'x'.repeat(600 * 1024),
    })
    expect(res.status).toBe(413)
  })

  it('A04: a streamed body without length is cut at the cap → 413', async () => {
    const { app } = gatewayApp()
    const chunk = new TextEncoder().encode('x'.repeat(64 * 1024))
    let sent = 0
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 16) return controller.close()
        sent += 1
        controller.enqueue(chunk)
      },
    })
    const res = await app.request('/api/ably/publish', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${await appToken()}` },
      body,
      duplex: 'half',
    } as RequestInit)
    expect(res.status).toBe(413)
    expect(sent).toBeLessThan(16)
  })

  it.each(['text/plain', 'application/x-www-form-urlencoded', undefined])('A05: Content-Type %s → 415', async (type) => {
    const { app } = gatewayApp()
    const res = await app.request('/api/ably/publish', {
      method: 'POST',
      headers: { ...(type && { 'Content-Type': type }), Authorization: `Bearer ${await appToken()}` },
      body: JSON.stringify(ownMessages()[0]),
    })
    expect(res.status).toBe(415)
  })

  it.each([
    ['truncated', '{"channelName":"sms:alice:c1"'],
    ['10k-deep nesting', `${'['.repeat(10_000)}${']'.repeat(10_000)}`],
    ['deep nesting inside data', `{"channelName":"sms:alice:c1","eventName":"message","data":${'['.repeat(100_000)}${']'.repeat(100_000)}}`],
    ['NaN', '{"channelName":NaN}'],
    ['a BOM', `\uFEFF${JSON.stringify(ownMessages()[0])}`],
    ['an array', '[]'],
    ['a number', '1'],
  ])('A06: %s → 400, fast', async (_name, raw) => {
    const { app } = gatewayApp()
    const { status } = await publish(app, undefined, { raw })
    expect(status).toBe(400)
  })

  it.each(['GET', 'PUT', 'DELETE'])('A07: %s → 405 with Allow', async (method) => {
    const { app } = gatewayApp()
    const res = await app.request('/api/ably/publish', { method, headers: { Authorization: `Bearer ${await appToken()}` } })
    expect(res.status).toBe(405)
    expect(res.headers.get('allow')).toContain('POST')
  })

  it('A08/A10: CORS for an allowed origin exposes Idempotency-Key, never *', async () => {
    const { app } = gatewayApp()
    const res = await app.request('/api/ably/publish', {
      method: 'OPTIONS',
      headers: { Origin: TEST_ORIGIN, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'x-evil' },
    })
    expect(res.headers.get('access-control-allow-origin')).toBe(TEST_ORIGIN)
    expect(res.headers.get('access-control-allow-headers')?.toLowerCase()).toBe('authorization,content-type,idempotency-key,x-request-id')
  })

  it('A12: security headers on a 2xx and a 4xx', async () => {
    const { app } = gatewayApp()
    for (const message of [ownMessages()[0], ownMessages('bob')[0]]) {
      const { res } = await publish(app, message)
      expect(res.headers.get('x-frame-options')).toBe('DENY')
      expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    }
  })

  it('401 without a token, before anything is read', async () => {
    const { app } = gatewayApp()
    const res = await app.request('/api/ably/publish', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(ownMessages()[0]),
    })
    expect(res.status).toBe(401)
  })
})

describe('batches', () => {
  it('publishes every message of { messages } in one Ably request and answers per message', async () => {
    const { app, ably } = gatewayApp()
    const messages = ownMessages()
    const { status, body } = await publish(app, { messages })
    expect(status).toBe(200)
    expect(body.success).toBe(true)
    expect(body.results).toEqual(
      messages.map((message) => ({
        channelName: message.channelName,
        messageId: expect.any(String),
        status: 'published',
        timestamp: new Date(NOW).toISOString(),
      })),
    )
    expect(ably.requests).toBe(1)
    expect(ably.delivered.map((entry) => entry.channel)).toEqual(messages.map((message) => message.channelName))
  })

  it('is all or nothing on validation: one foreign channel → 403 and nothing stored', async () => {
    const { app, ably, store } = gatewayApp()
    const { status, body } = await publish(app, { messages: [...ownMessages(), ownMessages('bob')[0]] })
    expect(status).toBe(403)
    expect(body.details).toEqual({ index: 3 })
    expect(ably.requests).toBe(0)
    expect(await store.history({ channelName: 'sms:alice:c1', limit: 10 })).toEqual([])
  })

  it.each([[[]], [Array.from({ length: 51 }, () => ownMessages()[1])], ['nope']])('an empty, oversized or malformed batch → 400', async (messages) => {
    const { app } = gatewayApp()
    expect((await publish(app, { messages })).status).toBe(400)
  })

  it('two messages with one id in a batch → 400', async () => {
    const { app } = gatewayApp()
    const [first, second] = ownMessages()
    expect(
      (
        await publish(app, {
          messages: [
            { ...first, id: 'k' },
            { ...second, id: 'k' },
          ],
        })
      ).status,
    ).toBe(400)
  })

  it('splits into Ably requests of at most 64 KiB', async () => {
    const { app, ably } = gatewayApp()
    const big = (n: number) => ({
      channelName: 'sms:alice:c1',
      eventName: 'message',
      data: smsMessage('alice', 'c1', { message: `${n}${'x'.repeat(15_000)}` }),
    })
    const { status } = await publish(app, { messages: Array.from({ length: 10 }, (_, n) => big(n)) })
    expect(status).toBe(200)
    // Ten ~15 KB messages: four fit in 64 KiB, so three requests (4 + 4 + 2).
    expect(ably.requests).toBe(3)
    expect(ably.delivered).toHaveLength(10)
  })
})
