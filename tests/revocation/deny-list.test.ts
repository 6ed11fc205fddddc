/** The deny-list's contract, on the embedded store and on Netlify Blobs (Netlify's own local Blobs server, offline). */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BlobsServer } from '@netlify/blobs/server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDenyList, createMemoryRevocationStore, RevocationStoreError, type RevocationStore } from '../../src/revocation/deny-list.ts'
import { createNetlifyBlobsStore } from '../../src/revocation/netlify-blobs.ts'
import { createBlobsEdge, EDGE_URL, ORIGIN_URL } from './blobs-edge.ts'

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

describe('the deny-list on Netlify Blobs with concurrent writers (an edge with atomic compare-and-set, tests/revocation/blobs-edge.ts)', () => {
  const HOUR_LATER = Date.now() + HOUR
  const writer = (edge: ReturnType<typeof createBlobsEdge>, token: string, consistency: 'strong' | 'eventual' = 'strong') =>
    createDenyList(createNetlifyBlobsStore({ consistency, siteID: 'site', token, edgeURL: EDGE_URL, uncachedEdgeURL: ORIGIN_URL, fetch: edge.fetch }))
  const sessionsOf = (edge: ReturnType<typeof createBlobsEdge>, key: string) =>
    Object.keys((edge.stored(key) as { sessions?: object } | undefined)?.sessions ?? {}).sort()

  it('keeps every revocation when two instances revoke sessions of one user at once', async () => {
    let seed = 7
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return seed / 2 ** 31
    }
    const edge = createBlobsEdge({ pause: () => new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 4))) })
    const [a, b] = [writer(edge, 'A'), writer(edge, 'B')]
    for (let round = 0; round < 20; round++) {
      const user = `u${round}`
      await Promise.all([
        a.revokeSession(user, 'a1', HOUR_LATER),
        b.revokeSession(user, 'b1', HOUR_LATER),
        a.revokeSession(user, 'a2', HOUR_LATER),
        b.revokeUser(user, Date.now(), HOUR_LATER),
      ])
      expect(sessionsOf(edge, user)).toEqual(['a1', 'a2', 'b1'])
      expect(await a.check({ userKey: user, sessionKey: 'other', issuedAt: 0 })).toBe('user')
    }
  })

  it('loses no write where reads carry no ETag (the local emulator): the version is taken before the data', async () => {
    let aListed: () => void = () => {}
    const listedByA = new Promise<void>((resolve) => {
      aListed = resolve
    })
    let armed = false
    let paused = false
    const edge = createBlobsEdge({
      etagOnRead: false,
      // A reads the record, then B writes, and only then does A learn a version.
      pause: async ({ method, key, token }) => {
        if (!armed) return
        if (token === 'A' && method === 'GET' && key === undefined && !paused) {
          paused = true
          aListed()
          while (!edge.writes.includes('B')) await new Promise((resolve) => setTimeout(resolve, 1))
        }
        if (token === 'B' && method === 'PUT') await listedByA
      },
    })
    await writer(edge, 'setup').revokeSession('u1', 'tablet', HOUR_LATER)
    armed = true
    await Promise.all([writer(edge, 'A').revokeSession('u1', 'phone', HOUR_LATER), writer(edge, 'B').revokeSession('u1', 'laptop', HOUR_LATER)])
    expect(sessionsOf(edge, 'u1')).toEqual(['laptop', 'phone', 'tablet'])
  })

  it('writes after a read of the latest record even when reads are eventual (a second revoke within the stale window)', async () => {
    const edge = createBlobsEdge({ staleMs: HOUR })
    const denyList = writer(edge, 'A', 'eventual')
    await denyList.revokeSession('u1', 'phone', HOUR_LATER)
    await denyList.revokeSession('u1', 'laptop', HOUR_LATER)
    await denyList.revokeUser('u1', Date.now(), HOUR_LATER)
    expect(sessionsOf(edge, 'u1')).toEqual(['laptop', 'phone'])
  })
})
