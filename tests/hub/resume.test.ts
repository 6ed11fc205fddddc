import type * as Ably from 'ably'
import { describe, expect, it } from 'vitest'
import { collect, eventually, keyString, PROTOCOLS, ROOT_KEY, useHub } from './helpers.ts'

describe.each(PROTOCOLS)('resume over $protocol', ({ useBinaryProtocol }) => {
  // Short retry delays so a client finding the hub down tries again quickly.
  const fixture = useHub({ connectionStateTtlMs: 60_000 }, { useBinaryProtocol, disconnectedRetryTimeout: 100, suspendedRetryTimeout: 100 })
  const root = () => fixture.rest({ key: keyString(ROOT_KEY) })
  const names = (messages: Ably.InboundMessage[]) => messages.map((message) => message.name)
  /** An attached subscriber collecting the next `count` messages, and its connection at that point. */
  const subscribe = async (channelName: string, count: number) => {
    const subscriber = fixture.realtime({ key: keyString(ROOT_KEY) })
    const channel = subscriber.channels.get(channelName)
    const received = collect(channel, count)
    await channel.attach()
    return { subscriber, received, connectionId: subscriber.connection.id }
  }

  it('resumes after dropped sockets with the same connection and no lost or duplicated messages', async () => {
    const publisher = fixture.realtime({ key: keyString(ROOT_KEY) })
    const { subscriber, received, connectionId } = await subscribe('resume:drop', 6)
    await publisher.connection.whenState('connected')
    const publisherId = publisher.connection.id
    const outgoing = publisher.channels.get('resume:drop')

    await outgoing.publish('m1', 'x')
    await root().channels.get('resume:drop').publish('m2', 'x')
    const reconnected = subscriber.connection.once('connected')
    fixture.hub.dropConnections()
    // Published while both are away: one over REST, one queued in the publisher and sent on resume.
    await root().channels.get('resume:drop').publish('m3', 'x')
    const queued = outgoing.publish('m4', 'x')
    await reconnected
    await queued
    await outgoing.publish('m5', 'x')
    await root().channels.get('resume:drop').publish('m6', 'x')

    expect(names(await received)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5', 'm6'])
    expect(subscriber.connection.id).toBe(connectionId)
    expect(publisher.connection.id).toBe(publisherId)
    const history = await root().channels.get('resume:drop').history({ direction: 'forwards' })
    expect(names(history.items)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5', 'm6'])
  })

  it('resumes across close() and listen() on the same port, keeping history', async () => {
    const { subscriber, received, connectionId } = await subscribe('resume:restart', 3)
    const port = fixture.hub.port
    await root().channels.get('resume:restart').publish('before', 'x')

    const disconnected = subscriber.connection.once('disconnected')
    await fixture.hub.close()
    await disconnected
    expect(fixture.hub.port).toBeUndefined()
    const reconnected = subscriber.connection.once('connected')
    await fixture.hub.listen()
    expect(fixture.hub.port).toBe(port)
    await root().channels.get('resume:restart').publish('while-away', 'x')
    await reconnected
    await root().channels.get('resume:restart').publish('after', 'x')

    expect(names(await received)).toEqual(['before', 'while-away', 'after'])
    expect(subscriber.connection.id).toBe(connectionId)
    const history = await root().channels.get('resume:restart').history()
    expect(names(history.items)).toEqual(['after', 'while-away', 'before'])
  })

  it('gives a new connection with an error once connection state expired, but channels still catch up', async () => {
    const { subscriber, received, connectionId } = await subscribe('resume:expired', 2)

    const disconnected = subscriber.connection.once('disconnected')
    await fixture.hub.close()
    await disconnected
    fixture.clock.offset += 61_000
    const reconnected = subscriber.connection.once('connected')
    await fixture.hub.listen()
    await root().channels.get('resume:expired').publish('missed', 'x')
    const change = await reconnected
    expect(change.reason?.code).toBe(80008)
    expect(subscriber.connection.id).not.toBe(connectionId)
    await root().channels.get('resume:expired').publish('live', 'x')
    expect(names(await received)).toEqual(['missed', 'live'])
  })
})

describe('resume on a raw socket', () => {
  // Frames of 1000 messages are far over Ably's default inbound rate (50 a second; tests/hub/limits.test.ts);
  // here they test how replies are kept, so the rate is raised.
  const fixture = useHub({ maxInboundRate: 10_000 })
  const query = `key=${encodeURIComponent(keyString(ROOT_KEY))}`

  it('re-acknowledges a re-sent msgSerial with its original serials instead of publishing twice', async () => {
    const first = await fixture.raw(query)
    const connected = await first.next((frame) => frame.action === 4)
    const frame = { action: 15, channel: 'raw:dedupe', msgSerial: 0, messages: [{ name: 'once', data: 'x' }] }
    first.send(frame)
    const ack = await first.next((candidate) => candidate.action === 1)
    expect(ack).toMatchObject({ msgSerial: 0, count: 1, res: [{ serials: [expect.any(String)] }] })

    fixture.hub.dropConnections()
    await first.closed
    const connectionKey = (connected.connectionDetails as { connectionKey: string }).connectionKey
    const second = await fixture.raw(`${query}&resume=${encodeURIComponent(connectionKey)}`)
    const resumed = await second.next((candidate) => candidate.action === 4)
    expect(resumed.connectionId).toBe(connected.connectionId)
    expect(resumed.error).toBeUndefined()
    second.send(frame)
    expect(await second.next((candidate) => candidate.action === 1)).toEqual(ack)
    second.send({ ...frame, msgSerial: 1, messages: [{ name: 'twice' }] })
    expect(await second.next((candidate) => candidate.action === 1)).toMatchObject({ msgSerial: 1 })

    const history = await fixture
      .rest({ key: keyString(ROOT_KEY) })
      .channels.get('raw:dedupe')
      .history()
    expect(history.items.map((message) => message.name)).toEqual(['twice', 'once'])
  })

  it('keeps the replies of the newest frames within 2000 serials for re-sent frames', async () => {
    const socket = await fixture.raw(query)
    await socket.next((frame) => frame.action === 4)
    const frame = (msgSerial: number) => ({ action: 15, channel: 'raw:replies', msgSerial, messages: Array.from({ length: 1000 }, () => ({})) })
    const acks = []
    for (const msgSerial of [0, 1, 2]) {
      socket.send(frame(msgSerial))
      acks.push(await socket.next((candidate) => candidate.action === 1))
    }
    socket.send(frame(0))
    const forgotten = await socket.next((candidate) => candidate.action === 1)
    expect(forgotten).toMatchObject({ msgSerial: 0, count: 1 })
    expect(forgotten.res).toBeUndefined()
    socket.send(frame(1))
    expect(await socket.next((candidate) => candidate.action === 1)).toEqual(acks[1])
  })

  it('answers an unknown resume key with a fresh connection and 80018 or 80008', async () => {
    const malformed = await fixture.raw(`${query}&resume=%20bad`)
    expect(await malformed.next()).toMatchObject({ action: 4, error: { code: 80018, statusCode: 400 } })
    const unknown = await fixture.raw(`${query}&resume=abc!def`)
    expect(await unknown.next()).toMatchObject({ action: 4, error: { code: 80008, statusCode: 400 } })
  })

  it('replays from a channelSerial after ATTACHED, flagged RESUMED', async () => {
    const rest = fixture.rest({ key: keyString(ROOT_KEY) }).channels.get('raw:replay')
    const { serials } = await rest.publish([{ name: 'a' }, { name: 'b' }, { name: 'c' }])
    const socket = await fixture.raw(query)
    await socket.next((frame) => frame.action === 4)
    socket.send({ action: 10, channel: 'raw:replay', channelSerial: serials[0] })
    const attached = await socket.next()
    expect(attached).toMatchObject({ action: 11, channelSerial: serials[0] })
    expect((attached.flags as number) & 4).toBe(4)
    const replayed = [await socket.next(), await socket.next()]
    expect(replayed.map((frame) => (frame.messages as { name: string }[])[0]!.name)).toEqual(['b', 'c'])
    expect(replayed.map((frame) => frame.channelSerial)).toEqual(serials.slice(1))
  })
})

describe('connection state bounds', () => {
  const fixture = useHub({ historyLimit: 2 })

  it('reports lost continuity when the messages after a channelSerial were evicted', async () => {
    const rest = fixture.rest({ key: keyString(ROOT_KEY) }).channels.get('bounded')
    const { serials } = await rest.publish([{ name: 'a' }, { name: 'b' }, { name: 'c' }, { name: 'd' }])
    const history = await rest.history()
    expect(history.items.map((message) => message.name)).toEqual(['d', 'c'])
    const socket = await fixture.raw(`key=${encodeURIComponent(keyString(ROOT_KEY))}`)
    await socket.next((frame) => frame.action === 4)
    socket.send({ action: 10, channel: 'bounded', channelSerial: serials[0] })
    const attached = await socket.next((frame) => frame.action === 11)
    expect((attached.flags as number) & 4).toBe(0)
    socket.send({ action: 10, channel: 'bounded', channelSerial: serials[1] })
    const resumed = await socket.next((frame) => frame.action === 11)
    expect((resumed.flags as number) & 4).toBe(4)
    await eventually(() => socket.frames.length === 2)
  })
})
