import { describe, expect, it } from 'vitest'
import { withTimeout, StoreUnavailableError, type MessageStore } from '../../src/store/index.ts'
import { createMemoryStore } from '../../src/store/memory.ts'
import { messageStoreContract } from './contract.ts'

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

  it('hands out copies, never its own documents', async () => {
    const store = createMemoryStore()
    const [outcome] = await store.insert([{
      _id: 'm1', idempotencyKey: 'k1', fingerprint: 'f', channelName: 'contacts:alice', ownerId: 'alice', publisherId: 'alice', eventName: 'update',
      data: { action: 'refresh' }, size: 10, status: 'pending', attempts: 0, seq: '1:m1', createdAt: new Date(0), updatedAt: new Date(0),
      nextAttemptAt: new Date(0), publishedAt: null, leaseOwner: null, leaseUntil: null, lastError: null,
    }])
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
