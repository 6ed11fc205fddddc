/** The deny-list's contract, on the embedded store and on Netlify Blobs (Netlify's own local Blobs server, offline). */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BlobsServer } from '@netlify/blobs/server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDenyList, createMemoryRevocationStore, RevocationStoreError, type RevocationStore } from '../../src/revocation/deny-list.ts'
import { createNetlifyBlobsStore } from '../../src/revocation/netlify-blobs.ts'

const HOUR = 3_600_000
let blobs: { server: BlobsServer; dir: string; url: string }

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'blobs-'))
  const server = new BlobsServer({ directory: dir, token: 'test-token', port: 0, logger: () => {} })
  const { port } = await server.start()
  blobs = { server, dir, url: `http://127.0.0.1:${port}` }
})
afterAll(async () => {
  await blobs.server.stop()
  await rm(blobs.dir, { recursive: true, force: true })
})

const stores: [string, () => RevocationStore][] = [
  ['the embedded store', createMemoryRevocationStore],
  [
    'Netlify Blobs',
    () => createNetlifyBlobsStore({ siteID: `site-${crypto.randomUUID()}`, token: 'test-token', edgeURL: blobs.url, uncachedEdgeURL: blobs.url }),
  ],
]

describe.each(stores)('the deny-list on %s', (_name, makeStore) => {
  const setup = () => {
    const clock = { now: Date.UTC(2026, 0, 1) }
    return { clock, denyList: createDenyList(makeStore(), { now: () => clock.now }) }
  }

  it('refuses a revoked session until its marker expires, and no other session', async () => {
    const { clock, denyList } = setup()
    await denyList.revokeSession('u1', 'phone', clock.now + HOUR)
    expect(await denyList.check({ userKey: 'u1', sessionKey: 'phone', issuedAt: clock.now - 1000 })).toBe('session')
    expect(await denyList.check({ userKey: 'u1', sessionKey: 'laptop', issuedAt: clock.now - 1000 })).toBeUndefined()
    expect(await denyList.check({ userKey: 'u2', sessionKey: 'phone', issuedAt: clock.now - 1000 })).toBeUndefined()
    clock.now += HOUR
    expect(await denyList.check({ userKey: 'u1', sessionKey: 'phone' })).toBeUndefined()
  })

  it('refuses every session of a user issued before the revoke (the revoke second included), and none after', async () => {
    const { clock, denyList } = setup()
    const at = clock.now + 500
    await denyList.revokeUser('u1', at, at + HOUR)
    expect(await denyList.check({ userKey: 'u1', sessionKey: 'a', issuedAt: clock.now })).toBe('user')
    expect(await denyList.check({ userKey: 'u1', sessionKey: 'a' })).toBe('user')
    expect(await denyList.check({ userKey: 'u1', sessionKey: 'a', issuedAt: clock.now + 1000 })).toBeUndefined()
    clock.now = at + HOUR
    expect(await denyList.check({ userKey: 'u1', sessionKey: 'a', issuedAt: 0 })).toBeUndefined()
  })

  it('refuses a write over a version it did not read (compare-and-set)', async () => {
    const store = makeStore()
    expect(await store.put('u1', { sessions: { a: 1 } }, undefined)).toBe(true)
    expect(await store.put('u1', { sessions: { b: 1 } }, undefined)).toBe(false)
    const first = await store.get('u1')
    expect(first?.record).toEqual({ sessions: { a: 1 } })
    expect(await store.put('u1', { sessions: { a: 1, c: 1 } }, first?.version)).toBe(true)
    expect(await store.put('u1', { sessions: { d: 1 } }, first?.version)).toBe(false)
    expect(await store.read('u1')).toEqual({ sessions: { a: 1, c: 1 } })
  })

  // Netlify's local emulator does not make a conditional write atomic, so concurrency is shown on the embedded store.
  it.runIf(_name === 'the embedded store')('keeps every revocation of concurrent writers for one user', async () => {
    const { clock, denyList } = setup()
    await Promise.all(['s1', 's2', 's3', 's4'].map((session) => denyList.revokeSession('u1', session, clock.now + HOUR)))
    for (const session of ['s1', 's2', 's3', 's4']) expect(await denyList.check({ userKey: 'u1', sessionKey: session })).toBe('session')
  })
})

it('reports a store it cannot reach as RevocationStoreError (the routes answer 503 or refuse to sign)', async () => {
  const denyList = createDenyList(createNetlifyBlobsStore({ siteID: 'site', token: 't', edgeURL: 'http://127.0.0.1:9', uncachedEdgeURL: 'http://127.0.0.1:9' }))
  await expect(denyList.check({ userKey: 'u', sessionKey: 's' })).rejects.toBeInstanceOf(RevocationStoreError)
  await expect(denyList.revokeUser('u', 1, 2)).rejects.toBeInstanceOf(RevocationStoreError)
})
