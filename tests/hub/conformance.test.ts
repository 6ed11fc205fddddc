// Where the hub used to differ from Ably in ways the SDK can tell (issue 17), each through the real ably SDK.
import type * as Ably from 'ably'
import { describe, expect, it } from 'vitest'
import { collect, eventually, keyString, mintJwt, PROTOCOLS, ROOT_KEY, useHub } from './helpers.ts'

const settle = (ms = 300) => new Promise((resolve) => setTimeout(resolve, ms))

/** Resolves when `promise` does, or rejects after `ms` naming `what`. */
function within<T>(promise: Promise<T>, what: string, ms = 2000): Promise<T> {
  return Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms))])
}

describe.each(PROTOCOLS)('conformance with Ably over $protocol', ({ useBinaryProtocol }) => {
  const fixture = useHub({}, { useBinaryProtocol })
  const key = keyString(ROOT_KEY)
  const root = () => fixture.rest({ key })

  /** A client whose authCallback mints a JWT of `ttlMs` on the hub's clock, counting how often it is asked. */
  const renewingClient = (ttlMs: number) => {
    const calls = { count: 0 }
    const client = fixture.realtime({
      authCallback: (_params, callback) => {
        calls.count++
        mintJwt({ clientId: 'renewer', now: fixture.clock.now(), ttlMs }).then(
          (token) => callback(null, token),
          (error: Error) => callback(error.message, null),
        )
      },
    })
    return { client, calls }
  }

  describe('1. renewal prompts only 30 s before expiry', () => {
    it('does not prompt a 5 s bare token; at expiry it fails with 40171, having no way to renew', async () => {
      const client = fixture.realtime({ token: await mintJwt({ now: fixture.clock.now(), ttlMs: 5_000 }) })
      await client.connection.whenState('connected')
      fixture.clock.offset += 3_000
      await settle()
      expect(client.connection.state).toBe('connected')
      const failed = client.connection.once('failed')
      fixture.clock.offset += 3_000
      expect((await failed).reason).toMatchObject({ code: 40171 })
    })

    it('does not prompt a 5 s token; DISCONNECTED 40142 at expiry, renewed through authCallback on the same connection', async () => {
      const { client, calls } = renewingClient(5_000)
      await client.connection.whenState('connected')
      const connectionId = client.connection.id
      fixture.clock.offset += 3_000
      await settle()
      expect(calls.count).toBe(1)
      const disconnected = client.connection.once('disconnected')
      fixture.clock.offset += 3_000
      expect((await disconnected).reason).toMatchObject({ code: 40142 })
      await client.connection.whenState('connected')
      expect(calls.count).toBe(2)
      expect(client.connection.id).toBe(connectionId)
    })

    it('prompts a 40 s token 30 s before its expiry, not half-way', async () => {
      const { client, calls } = renewingClient(40_000)
      await client.connection.whenState('connected')
      const updated = client.connection.once('update')
      fixture.clock.offset += 11_000
      await within(updated, 'the renewal prompt')
      expect(calls.count).toBe(2)
    })
  })

  describe('2. channel modes', () => {
    it('lets params.modes win over the mode flags', async () => {
      const client = fixture.realtime({ key, clientId: 'moder' })
      const channel = client.channels.get('modes:params', { modes: ['PUBLISH', 'PRESENCE'], params: { modes: 'subscribe' } })
      await channel.attach()
      expect(channel.modes).toEqual(['subscribe'])
    })

    it('refuses presence enter on an attachment without the presence mode', async () => {
      const client = fixture.realtime({ key, clientId: 'moder' })
      const channel = client.channels.get('modes:no-presence', { modes: ['SUBSCRIBE', 'PUBLISH'] })
      await channel.attach()
      await expect(channel.presence.enter('here')).rejects.toMatchObject({ code: 40160, statusCode: 401 })
      expect((await root().channels.get('modes:no-presence').presence.get()).items).toEqual([])
      expect(client.connection.state).toBe('connected')
    })
  })

  describe('3. recover', () => {
    it('gives a recovered connection a new key, so the client it was taken from gets a connection of its own', async () => {
      const first = fixture.realtime({ key })
      await first.connection.whenState('connected')
      const { id, key: oldKey } = first.connection
      const second = fixture.realtime({ key, recover: first.connection.createRecoveryKey()! })
      await second.connection.whenState('connected')
      expect(second.connection.id).toBe(id)
      expect(second.connection.key).not.toBe(oldKey)

      // The hub dropped the first client's socket; it resumes with its old key and is told that key is gone.
      await eventually(() => first.connection.state === 'connected' && first.connection.id !== id)
      const changes: string[] = []
      second.connection.on((change) => changes.push(change.current))
      await settle(1000)
      expect(changes).toEqual([])
      expect(second.connection.id).toBe(id)
    })

    it('answers a well-formed but unknown recovery key with 80018 and a new connection', async () => {
      const recover = JSON.stringify({ connectionKey: 'abcdefghijklmnopqr!stuvwxyz', msgSerial: 3, channelSerials: {} })
      const client = fixture.realtime({ key, recover })
      const change = await client.connection.once('connected')
      expect(change.reason).toMatchObject({ code: 80018, statusCode: 400 })
      expect(client.connection.id).not.toBe('stuvwxyz')
    })
  })

  describe('4. error codes', () => {
    it.each([
      ['an operation list mixing * with others', { 'caps:a': ['*', 'publish'] }],
      ['an empty operation list', { 'caps:a': [] }],
      ['an unknown operation', { 'caps:a': ['fly'] }],
    ])('refuses a capability with %s with 400', async (_case, capability) => {
      await expect(root().auth.requestToken({ capability: JSON.stringify(capability) })).rejects.toMatchObject({
        code: 40000,
        statusCode: 400,
      })
    })
  })

  describe('5. REST shapes', () => {
    it.each([
      ['put', '/time'],
      ['delete', '/channels/rest:shape/messages'],
      ['patch', '/channels/rest:shape'],
    ])('answers %s %s (a method the route does not serve) with 404', async (method, path) => {
      const response = await root().request(method, path, 6, null, {}, null)
      expect(response.statusCode).toBe(404)
      expect(response.errorCode).toBe(40400)
    })

    it('answers a batch publish of a single spec (not an array) with one result per channel', async () => {
      const spec = { channels: ['single:a', 'single:b', ':bad'], messages: { name: 'one', data: 'x' } }
      const response = await root().request('post', '/messages', 6, null, spec, null)
      expect(response.statusCode).toBe(201)
      expect(response.items).toMatchObject([
        { channel: 'single:a', messageId: expect.any(String) },
        { channel: 'single:b', messageId: expect.any(String) },
        { channel: ':bad', error: { code: 40010 } },
      ])
      expect((await root().channels.get('single:b').history()).items.map((message) => message.name)).toEqual(['one'])
    })
  })

  describe('6. channel parameters and names', () => {
    it('replays a numeric rewind as its string form does', async () => {
      await root()
        .channels.get('rewind:numeric')
        .publish([{ name: 'first' }, { name: 'second' }])
      const channel = fixture.realtime({ key }).channels.get('rewind:numeric', {
        params: { rewind: 1 as unknown as string },
      })
      const received = collect(channel, 1)
      await channel.attach()
      expect((await within(received, 'the rewound message')).map((message) => message.name)).toEqual(['second'])
      expect(channel.params).toMatchObject({ rewind: '1' })
    })

    it('accepts a filtered channel and delivers only the messages its filter selects', async () => {
      const client = fixture.realtime({ key })
      const filtered = client.channels.getDerived('filter:base', { filter: 'name == `"keep"` || headers.number == `1234`' })
      const received = collect(filtered, 2)
      await filtered.attach()
      await root()
        .channels.get('filter:base')
        .publish([
          { name: 'drop', data: '1', extras: { headers: { number: 1 } } },
          { name: 'keep', data: '2' },
          { name: 'other', data: '3', extras: { headers: { number: 1234 } } },
          { name: 'drop', data: '4' },
        ])
      const plain = collect(client.channels.get('filter:base'), 1)
      await client.channels.get('filter:base').attach()
      await root().channels.get('filter:base').publish({ name: 'drop', data: '5' })
      expect((await within(received, 'the filtered messages')).map((message) => message.data)).toEqual(['2', '3'])
      expect((await within(plain, 'the unfiltered message')).map((message) => message.data)).toEqual(['5'])
    })

    it('keeps a filtered channel subscribe-only', async () => {
      const filtered = fixture.realtime({ key, clientId: 'f' }).channels.getDerived('filter:ro', { filter: 'name == `"x"`' })
      await filtered.attach()
      expect(filtered.modes).toEqual(['subscribe'])
      await expect(filtered.publish('x', 'y')).rejects.toMatchObject({ code: 40160 })
    })

    it('accepts a channel-params qualifier ([?rewind=1]name) for messages and presence', async () => {
      await root()
        .channels.get('qualified:room')
        .publish([{ name: 'older' }, { name: 'newest' }])
      const channel = fixture.realtime({ key, clientId: 'q' }).channels.get('[?rewind=1]qualified:room')
      const received = collect(channel, 1)
      await channel.attach()
      expect((await within(received, 'the rewound message')).map((message) => message.name)).toEqual(['newest'])
      await channel.presence.enter('here')
      const members = await root().channels.get('qualified:room').presence.get()
      expect(members.items.map((member) => member.clientId)).toEqual(['q'])
    })

    it('refuses a filter that does not parse with 40010', async () => {
      const channel = fixture.realtime({ key }).channels.getDerived('filter:bad', { filter: 'name ==' })
      await expect(channel.attach()).rejects.toMatchObject({ code: 40010 })
    })

    it('answers a presence sync the client requests', async () => {
      const member = fixture.realtime({ key, clientId: 'present' })
      await member.channels.get('sync:asked').presence.enter('here')
      const channel = fixture.realtime({ key }).channels.get('sync:asked')
      await channel.attach()
      await channel.presence.get()
      const members = (channel.presence as unknown as { members: Ably.EventEmitter<() => void, void, string> }).members
      const synced = members.once('sync')
      ;(channel as unknown as { sync(): void }).sync()
      await within(synced, 'the requested sync')
      expect((await channel.presence.get()).map((entry) => entry.clientId)).toEqual(['present'])
    })
  })

  describe('7. publishing on behalf of a connection', () => {
    it('attributes a REST publish carrying a connectionKey to that connection', async () => {
      const client = fixture.realtime({ key, clientId: 'behalf' })
      const channel = client.channels.get('behalf:rest')
      const received = collect(channel, 1)
      await channel.attach()
      await root().channels.get('behalf:rest').publish({ name: 'x', data: 'y', connectionKey: client.connection.key })
      expect((await received)[0]).toMatchObject({ connectionId: client.connection.id, clientId: 'behalf' })
    })

    it('does not echo it back to a connection that asked for no echo', async () => {
      const client = fixture.realtime({ key, echoMessages: false })
      const channel = client.channels.get('behalf:echo')
      const received = collect(channel, 1)
      await channel.attach()
      await root().channels.get('behalf:echo').publish({ name: 'mine', connectionKey: client.connection.key })
      await root().channels.get('behalf:echo').publish({ name: 'other' })
      expect((await received)[0]!.name).toBe('other')
    })

    it('refuses an unknown connectionKey with 400', async () => {
      await expect(root().channels.get('behalf:unknown').publish({ name: 'x', connectionKey: 'abcdefghijklmnopqr!stuvwxyz' })).rejects.toMatchObject({
        statusCode: 400,
      })
    })
  })
})
