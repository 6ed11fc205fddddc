import type * as Ably from 'ably'
import { describe, expect, it } from 'vitest'
import { collect, eventually, keyString, PROTOCOLS, ROOT_KEY, useHub } from './helpers.ts'

describe.each(PROTOCOLS)('realtime over $protocol', ({ useBinaryProtocol }) => {
  const fixture = useHub({}, { useBinaryProtocol })
  const withKey = (options: Ably.ClientOptions = {}) => fixture.realtime({ key: keyString(ROOT_KEY), ...options })

  it('connects with a key, answers ping and reports connection details', async () => {
    const client = withKey()
    await client.connection.whenState('connected')
    expect(client.connection.id).toMatch(/^[\w-]{8,}$/)
    expect(client.connection.key).toContain(client.connection.id!)
    await expect(client.connection.ping()).resolves.toBeTypeOf('number')
  })

  it('delivers what a server publishes over REST, with ids, serials and timestamps', async () => {
    const channel = withKey().channels.get('orders:42')
    await channel.attach()
    const received = collect(channel, 3)
    const restChannel = fixture.rest({ key: keyString(ROOT_KEY) }).channels.get('orders:42')
    await restChannel.publish('text', 'hello')
    await restChannel.publish('json', { total: 12, items: ['a'] })
    await restChannel.publish('binary', Buffer.from([0, 1, 254, 255]))
    const [text, json, binary] = await received
    expect(text).toMatchObject({ name: 'text', data: 'hello' })
    expect(json).toMatchObject({ name: 'json', data: { total: 12, items: ['a'] } })
    expect(Buffer.from(binary!.data as Uint8Array)).toEqual(Buffer.from([0, 1, 254, 255]))
    for (const message of [text!, json!, binary!]) {
      expect(message.id).toBeTruthy()
      expect(message.serial).toBeTruthy()
      expect(message.timestamp).toBeTypeOf('number')
    }
    expect(text!.serial! < json!.serial! && json!.serial! < binary!.serial!).toBe(true)
  })

  it('acknowledges realtime publishes in order with their serials and stamps the clientId', async () => {
    const publisher = withKey({ clientId: 'pub-1' })
    const subscriber = withKey()
    const inbox = subscriber.channels.get('acks')
    await inbox.attach()
    const received = collect(inbox, 20)
    const channel = publisher.channels.get('acks')
    const results = await Promise.all(Array.from({ length: 20 }, (_, index) => channel.publish('n', String(index))))
    const serials = results.map((result) => result.serials[0])
    expect([...serials].sort()).toEqual(serials)
    const messages = await received
    expect(messages.map((message) => message.data)).toEqual(Array.from({ length: 20 }, (_, index) => String(index)))
    expect(messages.every((message) => message.clientId === 'pub-1')).toBe(true)
    expect(messages[0]!.connectionId).toBe(publisher.connection.id)
    expect(messages.map((message) => message.serial)).toEqual(serials)
  })

  it('does not echo to a publisher that asked for echoMessages: false', async () => {
    const quiet = withKey({ echoMessages: false })
    const other = withKey()
    const quietChannel = quiet.channels.get('echo')
    const otherChannel = other.channels.get('echo')
    const ownMessages: Ably.InboundMessage[] = []
    await quietChannel.subscribe((message) => void ownMessages.push(message))
    const atOther = collect(otherChannel, 2)
    await otherChannel.attach()
    await quietChannel.publish('mine', 'x')
    await otherChannel.publish('theirs', 'y')
    expect((await atOther).map((message) => message.name)).toEqual(['mine', 'theirs'])
    await eventually(() => ownMessages.length === 1)
    expect(ownMessages.map((message) => message.name)).toEqual(['theirs'])
  })

  it('grants the requested modes only and reports them', async () => {
    const channel = withKey().channels.get('modes', { modes: ['SUBSCRIBE'] })
    await channel.attach()
    expect(channel.modes).toEqual(['subscribe'])
  })

  it('fails a channel with an invalid name without dropping the connection', async () => {
    const client = withKey()
    const bad = client.channels.get(',bad')
    await expect(bad.attach()).rejects.toMatchObject({ code: 40010 })
    expect(bad.state).toBe('failed')
    await client.channels.get('good').attach()
    expect(client.connection.state).toBe('connected')
  })

  it('detaches and stops delivering', async () => {
    const client = withKey()
    const channel = client.channels.get('detach-me')
    const received: string[] = []
    await channel.subscribe((message) => void received.push(message.name ?? ''))
    await channel.detach()
    expect(channel.state).toBe('detached')
    await fixture
      .rest({ key: keyString(ROOT_KEY) })
      .channels.get('detach-me')
      .publish('after', 'x')
    const probe = collect(client.channels.get('probe'), 1)
    await fixture
      .rest({ key: keyString(ROOT_KEY) })
      .channels.get('probe')
      .publish('probe', 'x')
    await probe
    expect(received).toEqual([])
  })

  it('replays the last messages on attach with rewind', async () => {
    const rest = fixture.rest({ key: keyString(ROOT_KEY) }).channels.get('rewind')
    await rest.publish([{ name: 'a' }, { name: 'b' }, { name: 'c' }])
    const channel = withKey().channels.get('rewind', { params: { rewind: '2' } })
    const received = collect(channel, 2)
    expect((await received).map((message) => message.name)).toEqual(['b', 'c'])
  })

  it('tracks presence: enter, update, get, and leave on close', async () => {
    const alice = withKey({ clientId: 'alice' })
    const watcher = withKey()
    const watched = watcher.channels.get('room')
    const events: string[] = []
    await watched.presence.subscribe((message) => void events.push(`${message.action}:${message.clientId}`))
    await alice.channels.get('room').presence.enter({ mood: 'ok' })
    await alice.channels.get('room').presence.update({ mood: 'busy' })
    await eventually(() => events.length === 2)
    const late = withKey()
    const members = await late.channels.get('room').presence.get()
    expect(members.map((member) => [member.clientId, member.data])).toEqual([['alice', { mood: 'busy' }]])
    alice.close()
    await eventually(() => events.length === 3)
    expect(events).toEqual(['enter:alice', 'update:alice', 'leave:alice'])
    const rest = fixture.rest({ key: keyString(ROOT_KEY) }).channels.get('room')
    expect((await rest.status()).status.occupancy.metrics.presenceMembers).toBe(0)
    const history = await rest.presence.history({ direction: 'forwards' })
    expect(history.items.map((message) => message.action)).toEqual(['enter', 'update', 'leave'])
  })

  it('reports connection details and sends a HEARTBEAT after maxIdleInterval of silence', async () => {
    const socket = await fixture.raw(`key=${encodeURIComponent(keyString(ROOT_KEY))}`, useBinaryProtocol ? 'msgpack' : 'json')
    const connected = await socket.next((frame) => frame.action === 4)
    expect(connected.connectionDetails).toMatchObject({
      connectionKey: expect.any(String),
      maxMessageSize: 65536,
      maxFrameSize: 524288,
      connectionStateTtl: 120000,
      maxIdleInterval: 15000,
    })
    fixture.clock.offset += 16_000
    await socket.next((frame) => frame.action === 0)
  })
})
