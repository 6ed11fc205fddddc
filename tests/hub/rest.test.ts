import { createHmac } from 'node:crypto'
import { decode, encode } from '@msgpack/msgpack'
import type * as Ably from 'ably'
import { describe, expect, it } from 'vitest'
import { createFetchAblyRest } from '../../src/ably-rest/index.ts'
import { ALICE_CAPABILITY, eventually, keyString, mintJwt, PROTOCOLS, ROOT_KEY, SUBSCRIBE_KEY, useHub } from './helpers.ts'

describe.each(PROTOCOLS)('REST over $protocol', ({ useBinaryProtocol }) => {
  const fixture = useHub({}, { useBinaryProtocol })
  const root = () => fixture.rest({ key: keyString(ROOT_KEY) })

  it('pages history backwards and forwards through Link headers', async () => {
    const channel = root().channels.get('history:paging')
    await channel.publish(Array.from({ length: 5 }, (_, index) => ({ name: `m${index}`, data: String(index) })))
    const names: string[] = []
    let page: Ably.PaginatedResult<Ably.InboundMessage> | null = await channel.history({ limit: 2 })
    for (;;) {
      names.push(...page!.items.map((message) => message.name!))
      if (!page!.hasNext()) break
      page = await page!.next()
    }
    expect(names).toEqual(['m4', 'm3', 'm2', 'm1', 'm0'])

    const forwards = await channel.history({ limit: 3, direction: 'forwards' })
    expect(forwards.items.map((message) => message.name)).toEqual(['m0', 'm1', 'm2'])
    const rest = await forwards.next()
    expect(rest!.items.map((message) => message.name)).toEqual(['m3', 'm4'])
    expect(rest!.hasNext()).toBe(false)
    expect(rest!.isLast()).toBe(true)
  })

  it('filters history by time', async () => {
    const channel = root().channels.get('history:time')
    await channel.publish('old', 'x')
    fixture.clock.offset += 10_000
    const cutoff = fixture.clock.now()
    await channel.publish('new', 'y')
    const page = await channel.history({ start: cutoff })
    expect(page.items.map((message) => message.name)).toEqual(['new'])
  })

  it('returns history untilAttach up to the attach point', async () => {
    const rest = root().channels.get('history:attach')
    await rest.publish('before', 'x')
    const channel = fixture.realtime({ key: keyString(ROOT_KEY) }).channels.get('history:attach')
    await channel.attach()
    await rest.publish('after', 'y')
    const page = await channel.history({ untilAttach: true })
    expect(page.items.map((message) => message.name)).toEqual(['before'])
  })

  it('stamps the clientId a Basic-auth client names, and refuses a contradicting one', async () => {
    const server = fixture.rest({ key: keyString(ROOT_KEY), clientId: 'server-1' })
    const channel = server.channels.get('stamped')
    await channel.publish('a', 'x')
    await expect(channel.publish({ name: 'b', clientId: 'someone-else' })).rejects.toMatchObject({ code: 40012 })
    expect((await channel.history()).items.map((message) => [message.name, message.clientId])).toEqual([['a', 'server-1']])
  })

  it('fetches one message by serial, and 40400 for an unknown one', async () => {
    const channel = root().channels.get('by-serial')
    const { serials } = await channel.publish('one', { n: 1 })
    expect(await channel.getMessage(serials[0]!)).toMatchObject({ name: 'one', data: { n: 1 }, serial: serials[0] })
    await expect(channel.getMessage('000000000000000-000000')).rejects.toMatchObject({ code: 40400 })
  })

  it('deduplicates idempotent message ids', async () => {
    const channel = root().channels.get('idempotent')
    const first = await channel.publish({ id: 'order-7:0', name: 'created', data: 'a' })
    const again = await channel.publish({ id: 'order-7:0', name: 'created', data: 'a' })
    expect(again.serials).toEqual(first.serials)
    const page = await channel.history()
    expect(page.items.map((message) => message.id)).toEqual(['order-7:0'])
  })

  it('reports channel status with occupancy', async () => {
    const name = 'status:room'
    const one = fixture.realtime({ key: keyString(ROOT_KEY) })
    const two = fixture.realtime({ key: keyString(ROOT_KEY), clientId: 'bob' })
    await one.channels.get(name).attach()
    await two.channels.get(name, { modes: ['SUBSCRIBE', 'PRESENCE'] }).presence.enter()
    const details = await root().channels.get(name).status()
    expect(details.channelId).toBe(name)
    expect(details.status.isActive).toBe(true)
    expect(details.status.occupancy.metrics).toMatchObject({
      connections: 2,
      subscribers: 2,
      publishers: 1,
      presenceMembers: 1,
      presenceConnections: 2,
    })
  })

  it('publishes a batch and reports per-channel failures', async () => {
    const reader = fixture.rest({ key: keyString(SUBSCRIBE_KEY) })
    const refused = await reader.batchPublish({ channels: ['public:a'], messages: [{ name: 'x' }] })
    expect(refused).toMatchObject({ successCount: 0, failureCount: 1 })
    expect(refused.results[0]).toMatchObject({ channel: 'public:a', error: { code: 40160, statusCode: 401 } })

    const results = await root().batchPublish([
      { channels: ['batch:a', 'batch:b'], messages: [{ name: 'one', data: '1' }] },
      { channels: ['batch:c', ':invalid'], messages: [{ name: 'two' }] },
    ])
    expect(results.map(({ successCount, failureCount }) => [successCount, failureCount])).toEqual([
      [2, 0],
      [1, 1],
    ])
    const history = await root().channels.get('batch:b').history()
    expect(history.items.map((message) => message.name)).toEqual(['one'])
  })

  it('reports presence members per channel in a batch', async () => {
    const member = fixture.realtime({ key: keyString(ROOT_KEY), clientId: 'carol' })
    await member.channels.get('batch:presence').presence.enter('here')
    // ably.d.ts declares an array, but ably-js returns the body as is and Ably (and ably-js's own tests) use one BatchResult.
    const result = (await root().batchPresence(['batch:presence', 'batch:empty'])) as unknown as Ably.BatchResult<Ably.BatchPresenceSuccessResult>
    expect(result.successCount).toBe(2)
    const [first, second] = result.results
    expect(first!.presence.map((entry) => entry.clientId)).toEqual(['carol'])
    expect(second!.presence).toEqual([])
    expect((await root().channels.get('batch:presence').presence.get()).items[0]).toMatchObject({
      clientId: 'carol',
      data: 'here',
    })
  })

  it('answers time without credentials and stats with an empty list', async () => {
    const anonymous = fixture.rest({ key: undefined, authCallback: () => {} })
    expect(Math.abs((await anonymous.time()) - fixture.clock.now())).toBeLessThan(5000)
    const stats = await root().stats()
    expect(stats.items).toEqual([])
  })

  it('refuses a wrong secret with 40101 and an unknown key with 40400', async () => {
    const wrong = fixture.rest({ key: `${ROOT_KEY.name}:wrongsecret` })
    await expect(wrong.channels.get('x').history()).rejects.toMatchObject({ code: 40101, statusCode: 401 })
    const unknown = fixture.rest({ key: 'app.nobody:secret' })
    await expect(unknown.channels.get('x').history()).rejects.toMatchObject({ code: 40400, statusCode: 404 })
  })

  it('lets a JWT holder read but not publish outside its capability', async () => {
    const token = await mintJwt({ clientId: 'alice', capability: ALICE_CAPABILITY })
    const alice = fixture.rest({ token })
    await expect(alice.channels.get('sms:alice:c1').publish('x', 'y')).rejects.toMatchObject({ code: 40160 })
    await expect(alice.channels.get('sms:bob:c1').history()).rejects.toMatchObject({ code: 40160 })
    await expect(alice.channels.get('sms:alice:c1').history()).resolves.toBeDefined()
    await expect(alice.channels.get('contacts:alice').status()).rejects.toMatchObject({ code: 40160 })
  })

  it('issues tokens from signed token requests and accepts them', async () => {
    const details = await root().auth.requestToken({
      clientId: 'dave',
      capability: { 'team:*': ['publish', 'subscribe'] },
      ttl: 60_000,
    })
    expect(details).toMatchObject({ keyName: ROOT_KEY.name, clientId: 'dave' })
    expect(JSON.parse(details.capability)).toEqual({ 'team:*': ['publish', 'subscribe'] })
    expect(details.expires - details.issued).toBe(60_000)
    const dave = fixture.rest({ token: details.token })
    const result = await dave.channels.get('team:x').publish('hi', 'there')
    expect(result.serials).toHaveLength(1)
    const history = await root().channels.get('team:x').history()
    expect(history.items[0]).toMatchObject({ clientId: 'dave', name: 'hi' })
    await expect(dave.channels.get('other').publish('x', 'y')).rejects.toMatchObject({ code: 40160 })
  })
})

describe('REST wire details', () => {
  const fixture = useHub()
  const basic = `Basic ${Buffer.from(keyString(ROOT_KEY)).toString('base64')}`

  const signedRequest = (fields: Record<string, string | number> = {}, secret = ROOT_KEY.secret) => {
    const request = {
      keyName: ROOT_KEY.name,
      ttl: '',
      capability: '',
      clientId: '',
      timestamp: fixture.clock.now(),
      nonce: `nonce${Math.random().toString(36).slice(2)}${Date.now()}`,
      ...fields,
    }
    const text = ['keyName', 'ttl', 'capability', 'clientId', 'timestamp', 'nonce'].map((field) => `${request[field as keyof typeof request]}\n`).join('')
    return { ...request, mac: createHmac('sha256', secret).update(text).digest('base64') }
  }

  const requestToken = (body: unknown) =>
    fixture.fetch(`/keys/${ROOT_KEY.name}/requestToken`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
    })

  it('answers unknown routes with a 404 in Ably’s exact error shape', async () => {
    const response = await fixture.fetch('/nowhere', { headers: { authorization: basic } })
    expect(response.status).toBe(404)
    expect(response.headers.get('content-type')).toBe('application/json')
    expect(response.headers.get('x-ably-errorcode')).toBe('40400')
    expect(response.headers.get('x-ably-errormessage')).toBeTruthy()
    expect(await response.json()).toEqual({
      error: { code: 40400, statusCode: 404, message: expect.any(String), href: 'https://help.ably.io/error/40400' },
    })
  })

  it('answers errors in MessagePack when asked', async () => {
    const response = await fixture.fetch('/channels/x/messages', { headers: { accept: 'application/x-msgpack' } })
    expect(response.status).toBe(401)
    expect(response.headers.get('content-type')).toBe('application/x-msgpack')
    expect(decode(new Uint8Array(await response.arrayBuffer()))).toMatchObject({
      error: { code: 40101, statusCode: 401 },
    })
  })

  it('answers a method a route does not serve with 404, as Ably does', async () => {
    const response = await fixture.fetch('/time', { method: 'POST' })
    expect(response.status).toBe(404)
    expect(response.headers.get('x-ably-errorcode')).toBe('40400')
  })

  it('answers a CORS preflight for any origin and exposes Ably’s headers on errors', async () => {
    const preflight = await fixture.fetch('/channels/x/messages', {
      method: 'OPTIONS',
      headers: { origin: 'http://app.test', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,x-ably-version' },
    })
    expect(preflight.status).toBe(204)
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*')
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST')
    expect(preflight.headers.get('access-control-allow-headers')).toBe('authorization,x-ably-version')
    expect(preflight.headers.get('access-control-max-age')).toBe('86400')
    const refused = await fixture.fetch('/channels/x/messages', { headers: { origin: 'http://app.test' } })
    expect(refused.status).toBe(401)
    expect(refused.headers.get('access-control-allow-origin')).toBe('*')
    expect(refused.headers.get('access-control-expose-headers')).toMatch(/X-Ably-ErrorCode/i)
  })

  it('publishes a single object from curl and returns 201 with serials', async () => {
    const response = await fixture.fetch('/channels/curl%3Achannel/messages', {
      method: 'POST',
      headers: { authorization: basic, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'n', data: { nested: true } }),
    })
    expect(response.status).toBe(201)
    const body = (await response.json()) as { channel: string; serials: string[]; messageId: string }
    expect(body).toMatchObject({ channel: 'curl:channel', serials: [expect.any(String)], messageId: expect.any(String) })
    const history = await fixture.fetch('/channels/curl%3Achannel/messages', { headers: { authorization: basic } })
    expect(history.headers.get('link')).toMatch(/^<\.\/messages\?limit=100&direction=backwards>; rel="first"/)
    expect(await history.json()).toEqual([expect.objectContaining({ name: 'n', data: '{"nested":true}', encoding: 'json', serial: body.serials[0] })])
  })

  it('accepts a raw (not base64) Bearer JWT, as curl users send it', async () => {
    const token = await mintJwt({ capability: { '*': ['history'] } })
    const response = await fixture.fetch('/channels/a/messages', { headers: { authorization: `Bearer ${token}` } })
    expect(response.status).toBe(200)
  })

  it('refuses a publish above maxMessageSize with 40009', async () => {
    const response = await fixture.fetch('/channels/big/messages', {
      method: 'POST',
      headers: { authorization: basic, 'content-type': 'application/x-msgpack' },
      body: encode([
        { name: 'a', data: 'x'.repeat(40_000) },
        { name: 'b', data: 'y'.repeat(30_000) },
      ]),
    })
    expect(response.status).toBe(413)
    expect(await response.json()).toMatchObject({ error: { code: 40009 } })
  })

  it('issues a token for a correctly signed request, and TokenDetails always carries capability', async () => {
    const response = await requestToken(signedRequest())
    expect(response.status).toBe(200)
    const details = (await response.json()) as Ably.TokenDetails
    expect(details).toMatchObject({ keyName: ROOT_KEY.name, capability: '{"*":["*"]}' })
    expect(details.expires - details.issued).toBe(3_600_000)
  })

  it.each([
    ['a MAC made with the wrong secret', () => signedRequest({}, 'wrongsecret'), 40101, 401],
    ['a tampered field', () => ({ ...signedRequest({ clientId: 'eve' }), clientId: 'mallory' }), 40101, 401],
    ['a timestamp three minutes old', () => signedRequest({ timestamp: fixture.clock.now() - 180_000 }), 40104, 401],
    ['a ttl above 24 hours', () => signedRequest({ ttl: 86_400_001 }), 40003, 400],
    ['a capability outside the key', () => signedRequest({ capability: '{"x":["fly"]}' }), 40000, 400],
    ['a short nonce', () => signedRequest({ nonce: 'short' }), 40000, 400],
    ['no MAC and no Basic auth', () => ({ keyName: ROOT_KEY.name, timestamp: fixture.clock.now() }), 40101, 401],
  ])('refuses %s', async (_case, body, code, status) => {
    const response = await requestToken(body())
    expect(response.status).toBe(status)
    expect(await response.json()).toMatchObject({ error: { code, statusCode: status } })
  })

  it('refuses a replayed nonce with 40105', async () => {
    const request = signedRequest()
    expect((await requestToken(request)).status).toBe(200)
    const replay = await requestToken(request)
    expect(await replay.json()).toMatchObject({ error: { code: 40105 } })
  })

  it('refuses a capability the key cannot grant with 40160', async () => {
    const response = await fixture.fetch(`/keys/${SUBSCRIBE_KEY.name}/requestToken`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(signedRequest({ keyName: SUBSCRIBE_KEY.name, capability: '{"private":["publish"]}' }, SUBSCRIBE_KEY.secret)),
    })
    expect(await response.json()).toMatchObject({ error: { code: 40160, statusCode: 401 } })
  })

  it('refuses an unknown key with 40400', async () => {
    const response = await fixture.fetch('/keys/app.nobody/requestToken', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(signedRequest({ keyName: 'app.nobody' })),
    })
    expect(await response.json()).toMatchObject({ error: { code: 40400, statusCode: 404 } })
  })

  it('issues an unsigned token request under Basic auth with the same key', async () => {
    const response = await fixture.fetch(`/keys/${ROOT_KEY.name}/requestToken`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: basic },
      body: JSON.stringify({ keyName: ROOT_KEY.name, clientId: 'erin', ttl: 1000 }),
    })
    expect(await response.json()).toMatchObject({ clientId: 'erin', keyName: ROOT_KEY.name })
  })

  it('honours a token’s expiry to the millisecond', async () => {
    const response = await fixture.fetch(`/keys/${ROOT_KEY.name}/requestToken`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: basic },
      body: JSON.stringify({ ttl: 1 }),
    })
    const { token } = (await response.json()) as Ably.TokenDetails
    fixture.clock.offset += 2
    const expired = await fixture.fetch('/channels/a/messages', { headers: { authorization: `Bearer ${token}` } })
    expect(await expired.json()).toMatchObject({ error: { code: 40142, statusCode: 401 } })
  })
})

describe('retention window', () => {
  const fixture = useHub({ retentionMs: 60_000 })
  const channel = () => fixture.rest({ key: keyString(ROOT_KEY) }).channels.get('retention')

  it('drops messages older than retentionMs from history', async () => {
    await channel().publish('old', 'x')
    fixture.clock.offset += 61_000
    await channel().publish('fresh', 'y')
    await eventually(async () => (await channel().history()).items.length === 1)
    expect((await channel().history()).items.map((message) => message.name)).toEqual(['fresh'])
  })
})

// A hub of its own: ids are pruned oldest first, so a clock that other tests moved back would keep them longer.
describe('idempotency window', () => {
  const fixture = useHub({ idempotencyWindowMs: 120_000 })
  const channel = () => fixture.rest({ key: keyString(ROOT_KEY) }).channels.get('idempotency')

  it('forgets an idempotent id once its window has passed', async () => {
    const first = await channel().publish({ id: 'retry-1:0', name: 'once' })
    fixture.clock.offset += 60_000
    expect((await channel().publish({ id: 'retry-1:0', name: 'once' })).serials).toEqual(first.serials)
    fixture.clock.offset += 61_000
    expect((await channel().publish({ id: 'retry-1:0', name: 'once' })).serials).not.toEqual(first.serials)
  })
})

// The gateway's own Ably port (not ably-js) against the hub: a partial failure keeps each item's outcome.
describe('batch publish with partial failure, through the gateway port', () => {
  const fixture = useHub()
  const port = () => createFetchAblyRest({ key: { appId: 'app', ...ROOT_KEY }, restUrl: `http://127.0.0.1:${fixture.port}` })
  const specs = [
    { channels: ['batch:port-ok'], messages: [{ id: 'port-1', name: 'one', data: { n: 1 } }] },
    { channels: [':invalid'], messages: [{ id: 'port-2', name: 'two', data: { n: 2 } }] },
  ]

  it('answers 2xx with one BatchResult per spec, the failed item carrying its own error (as Ably does for X-Ably-Version ≥ 2)', async () => {
    const response = await fixture.fetch('/messages', {
      method: 'POST',
      headers: { authorization: `Basic ${btoa(keyString(ROOT_KEY))}`, 'content-type': 'application/json', 'x-ably-version': '6' },
      body: JSON.stringify(specs),
    })
    expect(response.status).toBe(201)
    expect(await response.json()).toMatchObject([
      { successCount: 1, failureCount: 0, results: [{ channel: 'batch:port-ok', messageId: expect.any(String) }] },
      { successCount: 0, failureCount: 1, results: [{ channel: ':invalid', error: { code: 40010, statusCode: 400 } }] },
    ])
  })

  it('the port reports the accepted item as taken and the refused one as a final (non-retryable) error', async () => {
    const [ok, refused] = await port().batchPublish(specs)
    expect(ok).toEqual({ channel: 'batch:port-ok', messageId: expect.any(String) })
    expect(refused).toMatchObject({ channel: ':invalid', error: { statusCode: 400, ablyCode: 40010, retryable: false } })
    const history = await fixture
      .rest({ key: keyString(ROOT_KEY) })
      .channels.get('batch:port-ok')
      .history()
    expect(history.items.map((message) => [message.id, message.data])).toEqual([['port-1', { n: 1 }]])
  })
})
