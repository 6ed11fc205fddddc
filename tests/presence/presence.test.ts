/** Who is online: the hub's REST presence (Ably's shape and paging), `isOnline` batching, and the admin route. */
import type * as Ably from 'ably'
import { describe, expect, it } from 'vitest'
import { AblyRestError, createFetchAblyRest, MAX_BATCH_CHANNELS } from '../../src/ably-rest/index.ts'
import { parseAblyEnv } from '../../src/config/check.ts'
import { channelSegment } from '../../src/channels/segment.ts'
import { defineChannelPolicy, type Zod } from '../../src/policy/index.ts'
import { isOnline, presenceOf } from '../../src/presence/index.ts'
import { presenceRoutes } from '../../src/routes/presence.ts'
import { appToken, bearer, fakeAbly, testApp, type FakeAblyBehaviour } from '../support/fixtures.ts'
import { keyString, ROOT_KEY, useHub } from '../hub/helpers.ts'
import { restPresenceContract } from './contract.ts'

const fixture = useHub()
const root = () => fixture.rest({ key: keyString(ROOT_KEY) })

/** Our REST port against the hub, counting the batch presence requests and their channels. */
function countedPort() {
  const batches: number[] = []
  const port = createFetchAblyRest({
    key: parseAblyEnv({ ABLY_API_KEY: keyString(ROOT_KEY) }).key,
    restUrl: `http://127.0.0.1:${fixture.port}`,
    fetch: async (input, init) => {
      const url = new URL(String(input))
      if (url.pathname === '/presence') batches.push((url.searchParams.get('channels') ?? '').split(',').length)
      return fetch(input, init)
    },
  })
  return { port, batches }
}

/** A root connection that enters `userIds` on their notifications channels (as each user's browser would). */
async function enterAs(userIds: readonly string[]): Promise<Ably.Realtime> {
  const client = fixture.realtime({ key: keyString(ROOT_KEY) })
  await Promise.all(userIds.map((userId) => client.channels.get(`notifications:${userId}`).presence.enterClient(userId)))
  return client
}

restPresenceContract('the local hub', () => ({
  key: keyString(ROOT_KEY),
  restUrl: `http://127.0.0.1:${fixture.port}`,
  clientOptions: { endpoint: 'localhost', port: fixture.port, tls: false },
}))

describe('the hub’s REST presence', () => {
  it('pages GET /channels/{name}/presence with Ably’s Link header, as ably-js follows it', async () => {
    const client = fixture.realtime({ key: keyString(ROOT_KEY) })
    const channel = client.channels.get('presence:paging')
    for (const id of ['m0', 'm1', 'm2', 'm3', 'm4']) await channel.presence.enterClient(id)
    const seen: string[][] = []
    let page: Ably.PaginatedResult<Ably.PresenceMessage> | null = await root().channels.get('presence:paging').presence.get({ limit: 2 })
    for (;;) {
      seen.push(page!.items.map((member) => member.clientId))
      if (!page!.hasNext()) break
      page = await page!.next()
    }
    expect(seen).toEqual([['m0', 'm1'], ['m2', 'm3'], ['m4']])
    expect((await root().channels.get('presence:paging').presence.get({ clientId: 'm3' })).items.map((member) => member.clientId)).toEqual(['m3'])
    const res = await fixture.fetch('/channels/presence:paging/presence?limit=0', { headers: { authorization: `Basic ${btoa(keyString(ROOT_KEY))}` } })
    expect([res.status, ((await res.json()) as { error: { code: number } }).error.code]).toEqual([400, 40000])
  })

  it('answers batch presence in Ably’s shape, and refuses more than 100 channels (90010)', async () => {
    const res = await fixture.fetch(`/presence?channels=${Array.from({ length: 101 }, (_, i) => `c${i}`).join(',')}`, {
      headers: { authorization: `Basic ${btoa(keyString(ROOT_KEY))}` },
    })
    expect([res.status, ((await res.json()) as { error: { code: number } }).error.code]).toEqual([400, 90010])
  })
})

describe('isOnline', () => {
  it('asks about any id the caller contract accepts, on the channel of its segment (provider ids, e-mail addresses)', async () => {
    const ids = ['auth0|64f1a2b3c4d5e6f7a8b9c0d1', 'ana@example.com', 'plain_user']
    const client = fixture.realtime({ key: keyString(ROOT_KEY) })
    await Promise.all(ids.slice(0, 2).map((id) => client.channels.get(`notifications:${channelSegment(id)}`).presence.enterClient(id)))
    const { port } = countedPort()
    expect(await isOnline(port, ids)).toEqual({ [ids[0] as string]: true, [ids[1] as string]: true, plain_user: false })
  })

  it('uses the policy’s presence channel, and says so when the policy has none', async () => {
    const kind = { owner: 'userId', publishers: ['server'], events: { ping: { data: (z: Zod) => z.strictObject({}) } } } as const
    const inbox = defineChannelPolicy({ kinds: { inbox: { pattern: 'inbox:{userId}', browser: ['presence', 'subscribe'], ...kind } } })
    const client = fixture.realtime({ key: keyString(ROOT_KEY) })
    await client.channels.get('inbox:carol').presence.enterClient('carol')
    await client.channels.get('notifications:dave').presence.enterClient('dave')
    const { port } = countedPort()
    expect(await isOnline(port, ['carol', 'dave'], { policy: inbox })).toEqual({ carol: true, dave: false })
    const silent = defineChannelPolicy({ kinds: { inbox: { pattern: 'inbox:{userId}', browser: ['subscribe'], ...kind } } })
    const ably = fakeAbly()
    await expect(isOnline(ably, ['carol'], { policy: silent })).rejects.toMatchObject({ code: 'not_found', status: 404 })
    expect(ably.calls).toEqual([])
    // An id whose segment the presence channel cannot hold (an owner alphabet of the policy's own) is refused, unasked.
    const lower = defineChannelPolicy({
      segments: { userId: { alphabet: 'a-z', maxLength: 64 } },
      kinds: { inbox: { pattern: 'inbox:{userId}', browser: ['presence', 'subscribe'], ...kind } },
    })
    await expect(isOnline(ably, ['carol', 'Dave'], { policy: lower })).rejects.toMatchObject({ code: 'invalid_request', details: { userId: 'Dave' } })
    expect(ably.calls).toEqual([])
  })

  it('batches 250 users into requests of at most 100 channels, and counts only members entered as the user', async () => {
    const userIds = Array.from({ length: 250 }, (_, i) => `user${i}`)
    const online = ['user0', 'user99', 'user100', 'user249']
    const client = await enterAs(online)
    // Someone else on a user's channel (a server with the root key) does not make that user online.
    await client.channels.get('notifications:user5').presence.enterClient('someone-else')
    const { port, batches } = countedPort()
    const result = await isOnline(port, userIds)
    expect(batches).toEqual([MAX_BATCH_CHANNELS, MAX_BATCH_CHANNELS, 50])
    expect(Object.keys(result)).toHaveLength(250)
    expect(
      Object.entries(result)
        .filter(([, isOn]) => isOn)
        .map(([userId]) => userId)
        .sort(),
    ).toEqual([...online].sort())
    await client.channels.get('notifications:user99').presence.leaveClient('user99')
    expect((await isOnline(port, ['user99', 'user0'])).user99).toBe(false)
  })

  it('refuses an invalid user id before asking Ably, and reports Ably failing as ably_unavailable', async () => {
    const ably = fakeAbly()
    // Invalid under the caller contract: Ably's wildcard clientId, a control character, an id over 256 characters.
    for (const bad of ['*', 'a\u0001b', 'x'.repeat(257)])
      await expect(presenceOf(ably, ['ok', bad])).rejects.toMatchObject({ code: 'invalid_request', details: { userId: bad.slice(0, 80) } })
    expect(ably.calls).toEqual([])
    const down = fakeAbly({ batchPresence: () => Promise.reject(new AblyRestError('no response', { statusCode: 0 })) })
    await expect(isOnline(down, ['alice'])).rejects.toMatchObject({ code: 'ably_unavailable', status: 503 })
    const refused = fakeAbly({
      batchPresence: async (channels) => channels.map((channel) => ({ channel, error: new AblyRestError('denied', { statusCode: 401, ablyCode: 40160 }) })),
    })
    await expect(isOnline(refused, ['alice'])).rejects.toMatchObject({ code: 'ably_unavailable' })
  })
})

describe('GET /api/ably/presence', () => {
  const app = (ably: FakeAblyBehaviour = {}) => testApp({ ably: fakeAbly(ably), routes: [presenceRoutes] }).app
  const admin = async () => bearer(await appToken({ userId: 'ops', role: 'admin' }))

  it('answers an admin with each user, in the order asked, never cached', async () => {
    const batchPresence: FakeAblyBehaviour['batchPresence'] = async (channels) =>
      channels.map((channel) => ({
        channel,
        members:
          channel === 'notifications:bob'
            ? [
                { clientId: 'bob', connectionId: 'c1' },
                { clientId: 'bob', connectionId: 'c2' },
              ]
            : [],
      }))
    const res = await app({ batchPresence }).request('/api/ably/presence?userIds=bob,alice', { headers: await admin() })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({
      users: [
        { userId: 'bob', online: true, connections: 2 },
        { userId: 'alice', online: false, connections: 0 },
      ],
      timestamp: expect.any(String),
    })
    expect(res.headers.get('cache-control')).toBe('no-store')
  })

  it('refuses anonymous callers (401), users without an admin role (403), no ids or too many (400), and answers Ably down with 503', async () => {
    const cases: [headers: Record<string, string>, query: string, status: number, code: string][] = [
      [{}, 'userIds=alice', 401, 'invalid_token'],
      [bearer(await appToken()), 'userIds=alice', 403, 'forbidden'],
      [await admin(), '', 400, 'invalid_request'],
      [await admin(), `userIds=${Array.from({ length: 501 }, (_, i) => `u${i}`).join(',')}`, 400, 'invalid_request'],
      [await admin(), 'userIds=%2A', 400, 'invalid_request'],
    ]
    for (const [headers, query, status, code] of cases) {
      const res = await app().request(`/api/ably/presence?${query}`, { headers })
      expect([res.status, ((await res.json()) as { code: string }).code]).toEqual([status, code])
    }
    const down = await app({ batchPresence: () => Promise.reject(new AblyRestError('no response', { statusCode: 0 })) }).request(
      '/api/ably/presence?userIds=alice',
      { headers: await admin() },
    )
    expect([down.status, ((await down.json()) as { code: string }).code, down.headers.get('retry-after')]).toEqual([503, 'ably_unavailable', '5'])
  })
})
