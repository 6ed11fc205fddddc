import { describe, expect, it } from 'vitest'
import { fetchHistory, type HistoryItem } from '../../src/client/index.ts'
import { historySince } from '../../src/client/history.ts'

// The backfill's reading of GET /api/ably/history, over a scripted gateway that pages as the real one does.
const items: HistoryItem[] = Array.from({ length: 60 }, (_, index) => ({
  id: `m${index}`,
  name: 'message',
  data: { index },
  timestamp: 1000 + index,
  status: 'published',
}))

function gateway(status = 200) {
  const requests: string[] = []
  const fetch: typeof globalThis.fetch = async (input) => {
    const url = new URL(String(input), 'http://app.test')
    requests.push(url.search)
    const limit = Number(url.searchParams.get('limit') ?? 50)
    const before = Number(url.searchParams.get('before') ?? Infinity)
    const older = items.filter((item) => item.timestamp < before).reverse()
    const page = older.slice(0, limit)
    const next = older.length > limit ? String(page.at(-1)?.timestamp) : null
    return status === 200 ? Response.json({ channelName: url.searchParams.get('channelName'), messages: page, next }) : new Response(null, { status })
  }
  return { client: { historyUrl: '/api/ably/history', appToken: 'app.jwt', fetch }, requests }
}

describe('history for a backfill', () => {
  it('pages back from the newest until it passes `since`, and returns the rest oldest first', async () => {
    const { client, requests } = gateway()
    const found = await historySince(client, 'sms:alice:c1', 1015)
    expect(found.map((item) => item.id)).toEqual(items.slice(15).map((item) => item.id))
    expect(requests).toEqual(['?channelName=sms%3Aalice%3Ac1&limit=20', '?channelName=sms%3Aalice%3Ac1&limit=100&before=1040'])
  })

  it('asks one small page when little was missed', async () => {
    const { client, requests } = gateway()
    expect((await historySince(client, 'sms:alice:c1', 1058)).map((item) => item.id)).toEqual(['m58', 'm59'])
    expect(requests).toHaveLength(1)
  })

  it.each([
    [401, gateway(401).client],
    [401, { ...gateway().client, appToken: undefined }],
    [503, gateway(503).client],
  ])('fails with the status (%i) when it cannot read', async (status, client) => {
    await expect(fetchHistory(client, { channelName: 'sms:alice:c1' })).rejects.toMatchObject({ name: 'HistoryError', status })
  })
})
