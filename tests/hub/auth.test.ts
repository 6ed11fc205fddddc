import type * as Ably from 'ably'
import { describe, expect, it } from 'vitest'
import { ALICE_CAPABILITY, collect, keyString, mintJwt, PROTOCOLS, ROOT_KEY, SUBSCRIBE_KEY, useHub } from './helpers.ts'

describe.each(PROTOCOLS)('realtime auth over $protocol', ({ useBinaryProtocol }) => {
  const fixture = useHub({}, { useBinaryProtocol })

  /** A client whose authCallback mints a fresh JWT on the hub's clock, counting how often it is asked. */
  const tokenClient = (claims: Parameters<typeof mintJwt>[0], options: Ably.ClientOptions = {}) => {
    const calls = { count: 0 }
    const client = fixture.realtime({
      authCallback: (_params, callback) => {
        calls.count++
        mintJwt({ ...claims, now: fixture.clock.now() }).then(
          (token) => callback(null, token),
          (error: Error) => callback(error.message, null),
        )
      },
      ...options,
    })
    return { client, calls }
  }

  /** Publishes on `channelName` and checks that the message comes back stamped with `clientId`. */
  const expectStamped = async (client: Ably.Realtime, channelName: string, clientId: string) => {
    const channel = client.channels.get(channelName)
    const received = collect(channel, 1)
    await channel.attach()
    await channel.publish('hi', 'x')
    expect((await received)[0]!.clientId).toBe(clientId)
  }

  it('limits alice to her own channels, read-only, without dropping the connection', async () => {
    const { client } = tokenClient({ clientId: 'alice', capability: ALICE_CAPABILITY })
    const own = client.channels.get('sms:alice:c1')
    await own.attach()
    expect(own.modes?.sort()).toEqual(['presence', 'presence_subscribe', 'subscribe'])
    expect(client.auth.clientId).toBe('alice')

    const other = client.channels.get('sms:bob:c1')
    await expect(other.attach()).rejects.toMatchObject({ code: 40160 })
    expect(other.state).toBe('failed')
    expect(other.errorReason?.code).toBe(40160)

    await expect(own.publish('sms', 'hi')).rejects.toMatchObject({ code: 40160 })
    await expect(client.channels.get('contacts:alice').publish('x', 'y')).rejects.toMatchObject({ code: 40160 })
    expect(client.connection.state).toBe('connected')

    await own.presence.enter('online')
    const members = await own.presence.get()
    expect(members.map((member) => member.clientId)).toEqual(['alice'])
    await expect(client.channels.get('contacts:alice').presence.enter()).rejects.toMatchObject({ code: 40160 })

    const delivered = collect(own, 1)
    await fixture
      .rest({ key: keyString(ROOT_KEY) })
      .channels.get('sms:alice:c1')
      .publish('sms', 'to alice')
    expect((await delivered)[0]).toMatchObject({ name: 'sms', data: 'to alice' })
  })

  // Over realtime Ably refuses an unknown key as unauthorized (40101); over REST it is 40400 (tests/hub/rest.test.ts).
  it('fails the connection for a wrong secret and for an unknown key, both with 40101', async () => {
    const wrong = fixture.realtime({ key: `${ROOT_KEY.name}:notthesecret` })
    const wrongChange = await wrong.connection.once('failed')
    expect(wrongChange.reason).toMatchObject({ code: 40101, statusCode: 401 })
    const unknown = fixture.realtime({ key: 'app.ghost:secret' })
    expect((await unknown.connection.once('failed')).reason).toMatchObject({ code: 40101, statusCode: 401 })
  })

  it('fails the connection when the clientId option contradicts the token', async () => {
    const { client } = tokenClient({ clientId: 'alice' }, { clientId: 'mallory' })
    const change = await client.connection.once('failed')
    expect([40102, 40012]).toContain(change.reason?.code)
  })

  it('accepts a wildcard token and lets the client choose its clientId', async () => {
    const { client } = tokenClient({ clientId: '*' }, { clientId: 'zoe' })
    await expectStamped(client, 'wild', 'zoe')
  })

  it('applies a key capability to tokens signed with that key', async () => {
    const { client: reader } = tokenClient({ key: SUBSCRIBE_KEY, capability: { '*': ['*'] } })
    await reader.channels.get('public:news').attach()
    await expect(reader.channels.get('public:news').publish('x', 'y')).rejects.toMatchObject({ code: 40160 })
    await expect(reader.channels.get('private').attach()).rejects.toMatchObject({ code: 40160 })
  })

  it('connects with a hub-issued token that ably-js requests itself (useTokenAuth)', async () => {
    const client = fixture.realtime({ key: keyString(ROOT_KEY), useTokenAuth: true, clientId: 'tokened' })
    await client.connection.whenState('connected')
    expect(client.auth.clientId).toBe('tokened')
    await expectStamped(client, 'token-auth', 'tokened')
  })

  it('renews a token when the hub asks, keeping the connection and its channels', async () => {
    const { client, calls } = tokenClient({ clientId: 'alice', capability: ALICE_CAPABILITY, ttlMs: 60_000 })
    const channel = client.channels.get('sms:alice:renew')
    await channel.attach()
    const connectionId = client.connection.id
    expect(calls.count).toBe(1)

    const updated = client.connection.once('update')
    fixture.clock.offset += 31_000
    await updated
    expect(calls.count).toBe(2)
    expect(client.connection.id).toBe(connectionId)

    // Past the first token's expiry the connection runs on the renewed token.
    fixture.clock.offset += 35_000
    const delivered = collect(channel, 1)
    await fixture
      .rest({ key: keyString(ROOT_KEY) })
      .channels.get('sms:alice:renew')
      .publish('after', 'renewal')
    expect((await delivered)[0]!.name).toBe('after')
    expect(client.connection.state).toBe('connected')
    expect(channel.state).toBe('attached')
    expect(client.connection.id).toBe(connectionId)
  })

  it('prompts no further once a renewal cannot outlive the token it replaces', async () => {
    // Every token ends when the app session does, as our /api/ably/token issues them near a session's end.
    const sessionEnd = fixture.clock.now() + 60_000
    const calls = { count: 0 }
    const client = fixture.realtime({
      authCallback: (_params, callback) => {
        calls.count++
        const now = fixture.clock.now()
        mintJwt({ clientId: 'alice', capability: ALICE_CAPABILITY, now, ttlMs: sessionEnd - now }).then(
          (token) => callback(null, token),
          (error: Error) => callback(error.message, null),
        )
      },
    })
    await client.connection.whenState('connected')
    const updated = client.connection.once('update')
    fixture.clock.offset += 31_000
    await updated
    expect(calls.count).toBe(2)
    // 20 s later, half the remaining life has long passed: a prompt would be due if the renewal had extended it.
    fixture.clock.offset += 20_000
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(calls.count).toBe(2)
    expect(client.connection.state).toBe('connected')
  })

  it('disconnects with 40142 at expiry, then resumes on a fresh token without losing messages', async () => {
    const { client, calls } = tokenClient({ clientId: 'alice', capability: ALICE_CAPABILITY, ttlMs: 60_000 })
    const channel = client.channels.get('sms:alice:expiry')
    const received = collect(channel, 2)
    await channel.attach()
    const connectionId = client.connection.id

    const disconnected = client.connection.once('disconnected')
    fixture.clock.offset += 61_000
    expect((await disconnected).reason).toMatchObject({ code: 40142 })
    const reconnected = client.connection.once('connected')
    await fixture
      .rest({ key: keyString(ROOT_KEY) })
      .channels.get('sms:alice:expiry')
      .publish('during', 'gap')
    await reconnected
    await fixture
      .rest({ key: keyString(ROOT_KEY) })
      .channels.get('sms:alice:expiry')
      .publish('after', 'gap')

    expect((await received).map((message) => message.name)).toEqual(['during', 'after'])
    expect(calls.count).toBe(2)
    expect(client.connection.id).toBe(connectionId)
  })

  it('re-authorizes on demand with authorize() and applies the new capability', async () => {
    let capability: Record<string, string[]> = { 'sms:alice:*': ['subscribe'] }
    const client = fixture.realtime({
      authCallback: (_params, callback) => {
        mintJwt({ clientId: 'alice', capability, now: fixture.clock.now() }).then((token) => callback(null, token))
      },
    })
    const channel = client.channels.get('sms:alice:upgrade')
    await channel.attach()
    await expect(channel.publish('x', 'y')).rejects.toMatchObject({ code: 40160 })
    capability = { 'sms:alice:*': ['subscribe', 'publish'] }
    await client.auth.authorize()
    await expect(channel.publish('x', 'y')).resolves.toBeDefined()
  })
})

describe('auth failures on a raw socket', () => {
  const fixture = useHub()

  it.each([
    ['a malformed key', `key=nocolon`, 40005],
    ['a token that is not a JWT', `access_token=garbage`, 40005],
    ['no credentials at all', `x=1`, 40101],
  ])('completes the upgrade and reports %s as an ERROR frame', async (_case, query, code) => {
    const socket = await fixture.raw(query)
    const frame = await socket.next()
    expect(frame).toMatchObject({ action: 9, error: { code, statusCode: expect.any(Number), message: expect.any(String) } })
    expect(frame.channel).toBeUndefined()
    await socket.closed
  })

  it('reports a JWT signed with the wrong secret as 40144 and an expired one as 40142', async () => {
    const forged = await mintJwt({ key: { ...ROOT_KEY, secret: 'someoneelse' } })
    expect(await (await fixture.raw(`access_token=${forged}`)).next()).toMatchObject({ error: { code: 40144 } })
    const expired = await mintJwt({ now: Date.now() - 7_200_000 })
    expect(await (await fixture.raw(`access_token=${expired}`)).next()).toMatchObject({ error: { code: 40142 } })
  })

  it('refuses a token whose alg is not HS256', async () => {
    const [, payload] = (await mintJwt()).split('.')
    const header = Buffer.from(JSON.stringify({ alg: 'none', kid: ROOT_KEY.name })).toString('base64url')
    const socket = await fixture.raw(`access_token=${header}.${payload}.`)
    expect(await socket.next()).toMatchObject({ action: 9, error: { code: 40144 } })
  })

  it('never logs secrets or tokens', async () => {
    const token = await mintJwt({ clientId: 'alice' })
    const socket = await fixture.raw(`access_token=${token}`)
    await socket.next((frame) => frame.action === 4)
    await fixture.raw(`key=${encodeURIComponent(`${ROOT_KEY.name}:wrong`)}`)
    const logged = JSON.stringify(fixture.logs)
    expect(fixture.logs.length).toBeGreaterThan(0)
    expect(logged).not.toContain(ROOT_KEY.secret)
    expect(logged).not.toContain(token.split('.')[2])
    expect(logged).not.toContain('wrong')
  })
})
