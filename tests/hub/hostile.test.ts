import { connect } from 'node:net'
import { encode } from '@msgpack/msgpack'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { collect, keyString, ROOT_KEY, useHub, type RawSocket } from './helpers.ts'

describe('hostile input', () => {
  // Frames of 1000 messages are far over Ably's default inbound rate (50 a second; tests/hub/limits.test.ts);
  // here they test the per-frame cap, so the rate is raised.
  const fixture = useHub({ maxFrameSize: 131_072, maxInboundRate: 10_000 })
  const query = `key=${encodeURIComponent(keyString(ROOT_KEY))}`
  const basic = `Basic ${Buffer.from(keyString(ROOT_KEY)).toString('base64')}`
  /** A REST publish whose body is a stream: no Content-Length, so the hub can only count what arrives. */
  const postStream = (body: ReadableStream<Uint8Array>) =>
    fixture.fetch('/channels/stream/messages', {
      method: 'POST',
      headers: { authorization: basic, 'content-type': 'application/json' },
      body,
      duplex: 'half',
    } as RequestInit)

  /** A Realtime subscriber that must keep receiving while other sockets misbehave. */
  const bystander = async () => {
    const channel = fixture.realtime({ key: keyString(ROOT_KEY) }).channels.get('bystander')
    await channel.attach()
    return async () => {
      const received = collect(channel, 1)
      await fixture
        .rest({ key: keyString(ROOT_KEY) })
        .channels.get('bystander')
        .publish('still', 'alive')
      expect((await received)[0]!.name).toBe('still')
    }
  }

  const connected = async (format: 'json' | 'msgpack' = 'json'): Promise<RawSocket> => {
    const socket = await fixture.raw(query, format)
    await socket.next((frame) => frame.action === 4)
    return socket
  }

  it.each([
    ['garbage text on a JSON connection', 'json', 'this is {not json'],
    ['a JSON array', 'json', '[1,2,3]'],
    ['a frame without an action', 'json', '{"channel":"x"}'],
    ['an action that is not a number', 'json', '{"action":"15"}'],
    ['garbage bytes on a MessagePack connection', 'msgpack', Buffer.from([0xc1, 0xff, 0x00, 0x13])],
    ['a MessagePack string instead of a map', 'msgpack', Buffer.from(encode('hello'))],
    ['a MessagePack array claiming 4 billion items', 'msgpack', Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff, 0x01])],
    ['a "__proto__" key in MessagePack', 'msgpack', Buffer.concat([Buffer.from([0x82]), encode('action'), encode(0), encode('__proto__'), encode({})])],
    ['a MESSAGE without msgSerial', 'json', '{"action":15,"channel":"a","messages":[]}'],
    ['a MESSAGE with a fractional msgSerial', 'json', '{"action":15,"channel":"a","msgSerial":0.5,"messages":[]}'],
    ['an ATTACH without a channel', 'json', '{"action":10}'],
    ['an AUTH without a token', 'json', '{"action":17,"auth":"x"}'],
  ] as const)('answers %s with ERROR 40000-class and closes only that socket', async (_case, format, payload) => {
    const check = await bystander()
    const socket = await connected(format)
    socket.ws.send(payload)
    const error = await socket.next((frame) => frame.action === 9)
    expect(error.error).toMatchObject({ code: expect.any(Number), statusCode: expect.any(Number), message: expect.any(String) })
    expect(error.channel).toBeUndefined()
    await socket.closed
    await check()
  })

  const upgradeRequest = (target: string) =>
    `GET ${target} HTTP/1.1\r\nHost: hub\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n'

  /** Writes `request` on a plain TCP socket and resolves with the status line once the hub closes it. */
  const statusLine = (request: string) =>
    new Promise<string>((resolve, reject) => {
      const socket = connect(fixture.port, '127.0.0.1', () => socket.write(request))
      let answer = ''
      socket.setEncoding('latin1')
      socket.on('data', (chunk: string) => (answer += chunk))
      socket.on('close', () => resolve(answer.split('\r\n')[0]!))
      socket.on('error', reject)
      socket.setTimeout(2000, () => socket.destroy(new Error('the hub neither answered nor closed the socket')))
    })

  it.each([
    ['http://[/', 'HTTP/1.1 400 Bad Request'],
    ['//[', 'HTTP/1.1 400 Bad Request'],
    ['http://hub:99999/', 'HTTP/1.1 400 Bad Request'],
    ['/elsewhere', 'HTTP/1.1 404 Not Found'],
  ])('refuses a WebSocket upgrade to %j with %j and keeps serving', async (target, expected) => {
    const check = await bystander()
    expect(await statusLine(upgradeRequest(target))).toBe(expected)
    await check()
  })

  it('survives clients that reset the connection while their upgrade is refused', async () => {
    const check = await bystander()
    // Under vitest an uncaught exception is reported instead of ending the process, as it would in `npm start`.
    const uncaught: unknown[] = []
    const record = (error: unknown) => uncaught.push(error)
    process.on('uncaughtException', record)
    try {
      for (let attempt = 0; attempt < 20; attempt++) {
        await new Promise<void>((resolve) => {
          const socket = connect(fixture.port, '127.0.0.1', () => {
            socket.write(upgradeRequest(attempt % 2 ? '/elsewhere' : 'http://[/'))
            socket.resetAndDestroy()
            resolve()
          })
          socket.on('error', () => resolve())
        })
      }
      expect(await statusLine('GET /time HTTP/1.1\r\nHost: hub\r\nConnection: close\r\n\r\n')).toBe('HTTP/1.1 200 OK')
      await check()
    } finally {
      process.off('uncaughtException', record)
    }
    expect(uncaught).toEqual([])
  })

  it('closes a socket that sends a frame above maxFrameSize', async () => {
    const check = await bystander()
    const socket = await connected()
    socket.ws.send(JSON.stringify({ action: 15, channel: 'big', msgSerial: 0, messages: [{ data: 'x'.repeat(140_000) }] }))
    expect(await socket.closed).toBe(1009)
    await check()
  })

  it.each([
    ['data of the wrong type', { data: 5 }, 40013],
    ['a name of the wrong type', { name: ['x'] }, 40000],
    ['invalid base64 data', { data: '!!!', encoding: 'base64' }, 40013],
    ['extras nested too deep', { extras: JSON.parse(`${'{"a":'.repeat(40)}1${'}'.repeat(40)}`) }, 40000],
    ['a message above maxMessageSize', { data: 'x'.repeat(65_537 - 10) + 'y'.repeat(10) }, 40009],
    ['a clientId that is "*"', { clientId: '*' }, 40012],
  ])('NACKs %s and keeps the connection', async (_case, message, code) => {
    const socket = await connected('msgpack')
    socket.send({ action: 15, channel: 'hostile', msgSerial: 0, messages: [message] })
    expect(await socket.next((frame) => frame.action === 2)).toMatchObject({ msgSerial: 0, count: 1, error: { code } })
    socket.send({ action: 15, channel: 'hostile', msgSerial: 1, messages: [{ name: 'fine' }] })
    expect(await socket.next((frame) => frame.action === 1)).toMatchObject({ msgSerial: 1 })
  })

  it('NACKs a MESSAGE or PRESENCE frame of more than 1000 items with 40034 and takes 1000', async () => {
    const socket = await connected('msgpack')
    const many = (count: number, item: object) => Array.from({ length: count }, () => item)
    socket.send({ action: 15, channel: 'many', msgSerial: 0, messages: many(1001, {}) })
    socket.send({ action: 14, channel: 'many', msgSerial: 1, presence: many(1001, { action: 2, clientId: 'c' }) })
    socket.send({ action: 15, channel: 'many', msgSerial: 2, messages: many(1000, {}) })
    const replies = [await socket.next(), await socket.next(), await socket.next()]
    expect(replies.map((frame) => [frame.action, frame.msgSerial, (frame.error as { code?: number } | undefined)?.code])).toEqual([
      [2, 0, 40034],
      [2, 1, 40034],
      [1, 2, undefined],
    ])
    expect((replies[2]!.res as { serials: string[] }[])[0]!.serials).toHaveLength(1000)
  })

  it('refuses a REST publish of more than 1000 messages with 40034', async () => {
    const response = await fixture.fetch('/channels/many/messages', {
      method: 'POST',
      headers: { authorization: basic, 'content-type': 'application/json' },
      body: JSON.stringify(Array.from({ length: 1001 }, () => ({}))),
    })
    expect(response.status).toBe(400)
    expect(await response.json()).toMatchObject({ error: { code: 40034 } })
  })

  it('NACKs presence without a clientId with 91000 and keeps ACKs in msgSerial order', async () => {
    const socket = await connected()
    socket.send({ action: 14, channel: 'p', msgSerial: 0, presence: [{ action: 2 }] })
    socket.send({ action: 15, channel: '\nbad', msgSerial: 1, messages: [{ name: 'x' }] })
    socket.send({ action: 15, channel: 'ok', msgSerial: 2, messages: [{ name: 'x' }] })
    const replies = [await socket.next(), await socket.next(), await socket.next()]
    expect(replies.map((frame) => [frame.action, frame.msgSerial, (frame.error as { code?: number } | undefined)?.code])).toEqual([
      [2, 0, 91000],
      [2, 1, 40010],
      [1, 2, undefined],
    ])
  })

  it('stores "__proto__" keys as data without polluting prototypes', async () => {
    const socket = await connected()
    socket.ws.send('{"action":15,"channel":"proto","msgSerial":0,"messages":[{"name":"p","extras":{"__proto__":{"polluted":true}}}]}')
    await socket.next((frame) => frame.action === 1)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    const history = await fixture
      .rest({ key: keyString(ROOT_KEY) })
      .channels.get('proto')
      .history()
    expect(history.items[0]!.name).toBe('p')
  })

  it.each([[':leading-colon'], [',comma'], ['[meta]channel'], [' space'], ['line\nbreak'], ['nul\u0000byte'], ['x'.repeat(3000)]])(
    'refuses the channel name %j with 40010 over REST',
    async (name) => {
      const response = await fixture.fetch(`/channels/${encodeURIComponent(name)}/messages`, {
        method: 'POST',
        headers: { authorization: basic, 'content-type': 'application/json' },
        body: '{"name":"x"}',
      })
      expect(response.status).toBe(400)
      expect(await response.json()).toMatchObject({ error: { code: 40010 } })
    },
  )

  it.each([
    ['truncated JSON', 'application/json', '{"name":'],
    ['a body that is not a message', 'application/json', '42'],
    ['an empty array', 'application/json', '[]'],
    ['garbage MessagePack', 'application/x-msgpack', '\u00c1\u00c1'],
    ['deeply nested data', 'application/json', `{"data":${'['.repeat(5000)}${']'.repeat(5000)}}`],
  ])('answers %s over REST with a 4xx in Ably’s shape', async (_case, contentType, body) => {
    const response = await fixture.fetch('/channels/hostile/messages', {
      method: 'POST',
      headers: { authorization: basic, 'content-type': contentType },
      body,
    })
    expect(response.status).toBeGreaterThanOrEqual(400)
    expect(response.status).toBeLessThan(500)
    expect(await response.json()).toMatchObject({ error: { code: expect.any(Number), statusCode: response.status } })
  })

  it('refuses a REST body above 2 MiB with 413', async () => {
    const response = await fixture.fetch('/messages', {
      method: 'POST',
      headers: { authorization: basic, 'content-type': 'application/json' },
      body: JSON.stringify([{ channels: ['a'], messages: [{ data: 'x'.repeat(2_200_000) }] }]),
    })
    expect(response.status).toBe(413)
    expect(response.headers.get('x-ably-errorcode')).toBe('40009')
  })

  it('refuses a streamed REST body (no Content-Length) once it passes 2 MiB, and keeps serving', async () => {
    const chunk = new TextEncoder().encode('x'.repeat(64 * 1024))
    let sent = 0
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 40) controller.enqueue(chunk)
        else controller.close()
      },
    })
    const response = await postStream(body)
    expect(response.status).toBe(413)
    expect(await response.json()).toMatchObject({ error: { code: 40009, statusCode: 413 } })
    expect((await fixture.fetch('/time')).status).toBe(200)
  })

  it('accepts a streamed REST body (no Content-Length) under the limit', async () => {
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"name":"streamed",'))
        controller.enqueue(new TextEncoder().encode('"data":"x"}'))
        controller.close()
      },
    })
    const response = await postStream(body)
    expect(response.status).toBe(201)
    expect(fixture.logs.filter((line) => line.event === 'hub.internal_error')).toEqual([])
  })

  it('survives random frames on both formats', async () => {
    const check = await bystander()
    const frame = fc.oneof(
      fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
      fc.json({ maxDepth: 3 }),
      fc.record(
        {
          action: fc.integer({ min: -1, max: 25 }),
          channel: fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
          msgSerial: fc.oneof(fc.nat(), fc.string(), fc.double()),
          flags: fc.oneof(fc.integer(), fc.string()),
          channelSerial: fc.oneof(fc.string(), fc.nat()),
          messages: fc.oneof(fc.array(fc.anything(), { maxLength: 3 }), fc.string()),
          presence: fc.array(fc.record({ action: fc.integer({ min: 0, max: 5 }), clientId: fc.string() }), { maxLength: 2 }),
          auth: fc.record({ accessToken: fc.string() }),
        },
        { requiredKeys: ['action'] },
      ),
    )
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('json' as const, 'msgpack' as const), fc.array(frame, { minLength: 1, maxLength: 5 }), async (format, frames) => {
        const socket = await fixture.raw(query, format)
        await socket.next((candidate) => candidate.action === 4)
        for (const item of frames) socket.ws.send(Buffer.isBuffer(item) ? item : format === 'json' ? JSON.stringify(item) : encode(item))
        socket.ws.send(format === 'json' ? '{"action":0,"id":"probe"}' : encode({ action: 0, id: 'probe' }))
        await Promise.race([socket.next((candidate) => candidate.action === 0 && candidate.id === 'probe'), socket.closed])
        socket.ws.terminate()
      }),
      { numRuns: 60 },
    )
    const time = await fixture.fetch('/time')
    expect(time.status).toBe(200)
    await check()
    expect(fixture.logs.filter((line) => line.event === 'hub.internal_error')).toEqual([])
  })
})
