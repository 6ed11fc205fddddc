import { describe, expect, it } from 'vitest'
import { withTimeout, StoreUnavailableError, type MessageStore } from '../../src/store/index.ts'
import { createMemoryStore } from '../../src/store/memory.ts'
import { messageDoc, messageStoreContract } from './contract.ts'

const T0 = Date.UTC(2026, 0, 1)

messageStoreContract('embedded (mingo)', async () => {
  const store = createMemoryStore()
  return { store, cleanup: () => store.close() }
})

describe('embedded store specifics', () => {
  it('expires rate-limit windows like a TTL index', async () => {
    let now = Date.UTC(2026, 0, 1)
    const store = createMemoryStore({ now: () => now })
    const expiresAt = new Date(now + 60_000)
    expect(await store.reserve('alice:w', 5, 10, expiresAt)).toEqual({ granted: true, count: 5 })
    now += 60_000
    expect(await store.reserve('alice:w', 1, 10, new Date(now + 60_000))).toEqual({ granted: true, count: 1 })
  })

  it('issue 11 #9: with a retention, settled messages expire that long after they settled; pending ones never', async () => {
    let now = T0
    const store = createMemoryStore({ now: () => now })
    await store.init({ retentionSec: 3600 })
    const [delivered, pending] = [messageDoc(), messageDoc()]
    await store.insert([delivered, pending])
    await store.settle([{ id: delivered._id, attempts: 1, now: new Date(now), status: 'published' }], 'anyone')
    now += 3_599_000
    expect((await store.findByIds([delivered._id, pending._id])).map((doc) => doc._id).sort()).toEqual([delivered._id, pending._id].sort())
    now += 2000
    expect((await store.findByIds([delivered._id, pending._id])).map((doc) => doc._id)).toEqual([pending._id])
    now += 365 * 86_400_000
    expect((await store.findByIds([pending._id])).map((doc) => doc._id)).toEqual([pending._id])
  })

  it('issue 11 #9: full of pending messages, it refuses an insert (store unavailable) rather than drop one', async () => {
    const store = createMemoryStore({ maxMessages: 3 })
    await store.insert([messageDoc(), messageDoc(), messageDoc()])
    await expect(store.insert([messageDoc()])).rejects.toBeInstanceOf(StoreUnavailableError)
    expect(await store.history({ channelName: 'sms:alice:c1', limit: 10 })).toHaveLength(3)
  })

  it('counts the bytes it holds once, however often its indexes are created', async () => {
    const store = createMemoryStore({ maxMessageBytes: 100 })
    await store.insert([messageDoc(), messageDoc()])
    for (let n = 0; n < 3; n += 1) await store.init({ retentionSec: 3600 + n })
    await store.insert([messageDoc(), messageDoc()])
    await expect(store.insert([messageDoc(), messageDoc()])).rejects.toBeInstanceOf(StoreUnavailableError)
  })

  it('hands out copies, never its own documents', async () => {
    const store = createMemoryStore()
    const [outcome] = await store.insert([
      {
        _id: 'm1',
        idempotencyKey: 'k1',
        fingerprint: 'f',
        channelName: 'contacts:alice',
        ownerId: 'alice',
        publisherId: 'alice',
        eventName: 'update',
        data: { action: 'refresh' },
        size: 10,
        status: 'pending',
        attempts: 0,
        seq: '1:m1',
        createdAt: new Date(0),
        updatedAt: new Date(0),
        nextAttemptAt: new Date(0),
        publishedAt: null,
        settledAt: null,
        leaseOwner: null,
        leaseUntil: null,
        lastError: null,
      },
    ])
    const [found] = await store.findByIds(['m1'])
    found!.data.action = 'tampered'
    expect((await store.findByIds(['m1']))[0]?.data).toEqual({ action: 'refresh' })
    expect(outcome?.inserted).toBe(true)
  })
})

describe('withTimeout', () => {
  it('turns a hanging call into StoreUnavailableError', async () => {
    const hanging = new Proxy(createMemoryStore(), { get: (target, name) => (name === 'close' ? target.close : () => new Promise(() => {})) }) as MessageStore
    await expect(withTimeout(hanging, 20).findByKeys(['k'])).rejects.toBeInstanceOf(StoreUnavailableError)
  })
})
