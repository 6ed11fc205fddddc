// Issue 11, defect 10: presence was unthrottled (1,000 updates of 60 KiB on one connection all acknowledged and
// kept for 24 h). The per-connection inbound rate, the message size and presence history's bounds, as on Ably.
import type * as Ably from 'ably'
import { describe, expect, it } from 'vitest'
import { eventually, keyString, mintJwt, PROTOCOLS, ROOT_KEY, useHub } from './helpers.ts'

const RATE = 50 // Ably's default per-connection inbound rate, the hub's default
const KIB_60 = 'x'.repeat(60 * 1024)

function codesOf(results: PromiseSettledResult<unknown>[]): Record<string, number> {
  const codes: Record<string, number> = {}
  for (const result of results) {
    const key = result.status === 'fulfilled' ? 'ok' : `${(result.reason as Ably.ErrorInfo).code}/${(result.reason as Ably.ErrorInfo).statusCode}`
    codes[key] = (codes[key] ?? 0) + 1
  }
  return codes
}

describe.each(PROTOCOLS)('Ably limits on presence over $protocol', ({ useBinaryProtocol }) => {
  const fixture = useHub({}, { useBinaryProtocol })
  const withKey = (options: Ably.ClientOptions = {}) => fixture.realtime({ key: keyString(ROOT_KEY), ...options })
  const presenceHistory = async (channel: string) =>
    (
      await fixture
        .rest({ key: keyString(ROOT_KEY) })
        .channels.get(channel)
        .presence.history({ limit: 1000 })
    ).items

  it('refuses a flood of 1,000 presence updates of 60 KiB beyond the rate with 42911 and keeps the connection', async () => {
    const client = withKey({ clientId: 'flooder' })
    const channel = client.channels.get('flood:room')
    await channel.attach()
    const started = Date.now()
    const results = await Promise.allSettled(Array.from({ length: 1000 }, () => channel.presence.update(KIB_60)))
    const elapsedSeconds = (Date.now() - started) / 1000
    const codes = codesOf(results)
    // Only the burst (one second's worth) plus what the rate allows while the flood lasted is taken.
    expect(codes.ok).toBeGreaterThanOrEqual(1)
    expect(codes.ok).toBeLessThanOrEqual(RATE + Math.ceil(RATE * elapsedSeconds))
    expect(codes).toEqual({ ok: codes.ok, '42911/429': 1000 - codes.ok! })
    expect(client.connection.state).toBe('connected')
    // The connection still publishes once the rate allows it.
    await new Promise((resolve) => setTimeout(resolve, 100))
    await channel.presence.update('after the flood')

    // What is kept is bounded: 100 presence events per channel, one member, and nothing after 2 minutes.
    const kept = await presenceHistory('flood:room')
    expect(kept.length).toBeLessThanOrEqual(100)
    expect(kept[0]!.data).toBe('after the flood')
    expect(await channel.presence.get()).toHaveLength(1)
    fixture.clock.offset = 120_001
    await eventually(async () => (await presenceHistory('flood:room')).length === 0)
    expect((await channel.presence.get()).map((member) => member.data)).toEqual(['after the flood'])
  }, 60_000)

  it('closes a connection that sends presence at 20 times the rate with 42921', async () => {
    const client = withKey({ clientId: 'runaway' })
    const channel = client.channels.get('flood:runaway')
    await channel.attach()
    const failed = client.connection.once('failed')
    const started = Date.now()
    const results = await Promise.allSettled(Array.from({ length: 3000 }, (_, index) => channel.presence.update(String(index))))
    const elapsedSeconds = (Date.now() - started) / 1000
    const state = await Promise.race([failed, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the connection was not closed')), 10_000))])
    expect(state.reason).toMatchObject({ code: 42921, statusCode: 429 })
    const codes = codesOf(results)
    // The burst plus what the rate allows while the frames were being handled (longer on a busy machine).
    expect(codes.ok).toBeLessThanOrEqual(RATE + Math.ceil(RATE * elapsedSeconds))
    expect(codes['42911/429']).toBeGreaterThan(0)
    // The connection ended, so its member left; history holds at most the per-channel cap.
    expect(
      await fixture
        .rest({ key: keyString(ROOT_KEY) })
        .channels.get('flood:runaway')
        .presence.get(),
    ).toMatchObject({ items: [] })
    expect((await presenceHistory('flood:runaway')).length).toBeLessThanOrEqual(100)
  }, 60_000)

  it('refuses a presence message above 64 KiB, counting data and clientId, with 40009', async () => {
    const client = withKey({ clientId: 'big' })
    const channel = client.channels.get('limits:size')
    await expect(channel.presence.enter('x'.repeat(65_536 - 'big'.length + 1))).rejects.toMatchObject({ code: 40009 })
    await channel.presence.enter('x'.repeat(65_536 - 'big'.length))
    expect((await channel.presence.get()).map((member) => member.clientId)).toEqual(['big'])
  })

  it('refuses a member beyond 200 on a channel with 91003', async () => {
    const client = fixture.realtime({ token: await mintJwt({ clientId: '*' }) })
    const channel = client.channels.get('limits:members')
    await channel.attach()
    for (let batch = 0; batch < 4; batch++) {
      await Promise.all(Array.from({ length: RATE }, (_, index) => channel.presence.enterClient(`member-${batch * RATE + index}`)))
      fixture.clock.offset += 1000
    }
    await expect(channel.presence.enterClient('one-too-many')).rejects.toMatchObject({ code: 91003, statusCode: 400 })
    await channel.presence.updateClient('member-0', 'an update of a member is fine')
    expect(await channel.presence.get()).toHaveLength(200)
  })

  describe('with a rate of one message a second', () => {
    const slow = useHub({ maxInboundRate: 1 }, { useBinaryProtocol })

    it('counts published messages and presence against the one rate of the connection', async () => {
      const client = slow.realtime({ key: keyString(ROOT_KEY), clientId: 'both' })
      const channel = client.channels.get('limits:shared')
      await channel.attach()
      await channel.publish('first', 'takes the second')
      await expect(channel.presence.enter('late')).rejects.toMatchObject({ code: 42911, statusCode: 429 })
      slow.clock.offset += 1000
      await channel.presence.enter('now')
      await expect(channel.publish('second', 'too soon')).rejects.toMatchObject({ code: 42911, statusCode: 429 })
      expect(client.connection.state).toBe('connected')
      expect((await channel.presence.get()).map((member) => member.data)).toEqual(['now'])
    })
  })
})

describe('the inbound rate on a raw socket', () => {
  const fixture = useHub()

  it('counts messages, not frames: 51 in one frame are refused, and a frame that takes the attempts past 20 times the rate ends the connection', async () => {
    const socket = await fixture.raw(`key=${encodeURIComponent(keyString(ROOT_KEY))}&clientId=raw`)
    await socket.next((frame) => frame.action === 4)
    const messages = (count: number) => Array.from({ length: count }, () => ({ name: 'n' }))
    socket.send({ action: 15, channel: 'raw:rate', msgSerial: 0, messages: messages(RATE + 1) })
    socket.send({ action: 14, channel: 'raw:rate', msgSerial: 1, presence: [{ action: 2 }] })
    socket.send({ action: 15, channel: 'raw:rate', msgSerial: 2, messages: messages(1000) })
    expect(await socket.next()).toMatchObject({ action: 2, msgSerial: 0, error: { code: 42911, statusCode: 429 } })
    expect(await socket.next()).toMatchObject({ action: 1, msgSerial: 1 })
    expect(await socket.next()).toMatchObject({ action: 9, error: { code: 42921, statusCode: 429 } })
    expect(await socket.closed).toBe(1000)
    expect(fixture.logs).toContainEqual(expect.objectContaining({ event: 'hub.connection.failed', code: 42921 }))
  })
})
