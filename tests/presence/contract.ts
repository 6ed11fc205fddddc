/**
 * The REST presence contract: what `isOnline` and the admin route rely on, run against the local hub always and against
 * real Ably whenever ABLY_API_KEY is set (tests/presence/ably.test.ts), as the store contract runs against MongoDB.
 */
import * as Ably from 'ably'
import { afterAll, describe, expect, it } from 'vitest'
import { createFetchAblyRest, MAX_BATCH_CHANNELS } from '../../src/ably-rest/index.ts'
import { parseAblyEnv } from '../../src/config/check.ts'
import { isOnline } from '../../src/presence/index.ts'

export interface PresenceTarget {
  /** An API key with every capability on the channels used. */
  key: string
  restUrl: string
  /** Where ably-js connects (empty for real Ably). */
  clientOptions: Ably.ClientOptions
}

/** Polls `check` until it holds; Ably's presence is eventually consistent across its regions. */
async function eventually(check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

export function restPresenceContract(name: string, target: () => PresenceTarget) {
  describe(`REST presence contract: ${name}`, { timeout: 40_000 }, () => {
    const run = `c${Math.random().toString(36).slice(2, 10)}`
    const clients: Ably.Realtime[] = []
    const realtime = (clientId: string) => {
      const client = new Ably.Realtime({ ...target().clientOptions, key: target().key, clientId, logLevel: 0 })
      clients.push(client)
      return client
    }
    const rest = () => new Ably.Rest({ ...target().clientOptions, key: target().key, logLevel: 0 })
    const counted = () => {
      const batches: number[] = []
      const port = createFetchAblyRest({
        key: parseAblyEnv({ ABLY_API_KEY: target().key }).key,
        restUrl: target().restUrl,
        fetch: async (input, init) => {
          const url = new URL(String(input))
          if (url.pathname === '/presence') batches.push((url.searchParams.get('channels') ?? '').split(',').length)
          return fetch(input, init)
        },
      })
      return { port, batches }
    }
    afterAll(() => {
      for (const client of clients) client.close()
    })

    it('GET /channels/{name}/presence lists the members, paged by `limit` with a Link to the next page', async () => {
      const channelName = `notifications:${run}-paging`
      await Promise.all(['a', 'b', 'c'].map((id) => realtime(`${run}-${id}`).channels.get(channelName).presence.enter()))
      const all: string[] = []
      await eventually(async () => (await rest().channels.get(channelName).presence.get()).items.length === 3)
      let page: Ably.PaginatedResult<Ably.PresenceMessage> | null = await rest().channels.get(channelName).presence.get({ limit: 2 })
      expect(page.items).toHaveLength(2)
      expect(page.hasNext()).toBe(true)
      for (;;) {
        all.push(...page!.items.map((member) => member.clientId))
        if (!page!.hasNext()) break
        page = await page!.next()
      }
      expect(all.sort()).toEqual([`${run}-a`, `${run}-b`, `${run}-c`])
      const first = (await rest().channels.get(channelName).presence.get()).items[0]
      expect(first).toMatchObject({ action: 'present', clientId: expect.any(String), connectionId: expect.any(String) })
    })

    it('batch presence (GET /presence?channels=…): isOnline flips as a user enters and leaves', async () => {
      const userId = `${run}-online`
      const { port } = counted()
      expect(await isOnline(port, [userId, `${run}-never`])).toEqual({ [userId]: false, [`${run}-never`]: false })
      const channel = realtime(userId).channels.get(`notifications:${userId}`)
      await channel.presence.enter()
      await eventually(async () => (await isOnline(port, [userId]))[userId] === true)
      expect((await isOnline(port, [userId, `${run}-never`]))[`${run}-never`]).toBe(false)
      await channel.presence.leave()
      await eventually(async () => (await isOnline(port, [userId]))[userId] === false)
    })

    it(`asks about more than ${MAX_BATCH_CHANNELS} users in requests of at most ${MAX_BATCH_CHANNELS} channels`, async () => {
      const userId = `${run}-many`
      await realtime(userId).channels.get(`notifications:${userId}`).presence.enter()
      const userIds = [...Array.from({ length: 149 }, (_, i) => `${run}-u${i}`), userId]
      const { port, batches } = counted()
      await eventually(async () => (await isOnline(port, [userId]))[userId] === true)
      batches.length = 0
      const result = await isOnline(port, userIds)
      expect(batches).toEqual([MAX_BATCH_CHANNELS, 50])
      expect(
        Object.entries(result)
          .filter(([, online]) => online)
          .map(([id]) => id),
      ).toEqual([userId])
    })
  })
}
