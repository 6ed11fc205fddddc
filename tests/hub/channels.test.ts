import { describe, expect, it } from 'vitest'
import { createChannelStore, type ChannelStoreOptions } from '../../src/hub/channels.ts'

describe('channel store', () => {
  const options = (now: () => number, historyLimit: number): ChannelStoreOptions => ({
    now,
    historyLimit,
    retentionMs: 60_000,
    idempotencyWindowMs: 120_000,
    maxChannels: 10,
  })
  const empty = (count: number) => Array.from({ length: count }, () => ({}))

  it('keeps the newest historyLimit messages of a publish too large to spread into push()', () => {
    const store = createChannelStore(options(() => 1000, 1000))
    const { serials } = store.publish('c', empty(200_000))
    const kept = store.history('c', { limit: 1000, direction: 'forwards' }).items.map((message) => message.serial)
    expect(kept).toEqual(serials.slice(-1000))
    expect(store.since('c', serials.at(-1001)!).continuous).toBe(true)
    expect(store.since('c', serials.at(-1002)!).continuous).toBe(false)
  })

  it('drops a long history past its retention in one pass, not one shift per message', () => {
    let time = 1000
    const store = createChannelStore(options(() => time, 1_000_000))
    for (let batch = 0; batch < 15; batch++) store.publish('c', empty(10_000))
    time += 60_001
    const started = performance.now()
    const { serials } = store.publish('c', [{}])
    // The shift() loop took seconds here; one splice takes milliseconds.
    expect(performance.now() - started).toBeLessThan(500)
    expect(store.history('c', { limit: 10, direction: 'forwards' }).items.map((message) => message.serial)).toEqual(serials)
  })
})
