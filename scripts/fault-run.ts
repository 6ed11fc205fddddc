/**
 * The fault run against a running `npm start` (loopback only, bounded): messages published through
 * `/api/ably/publish` while the local hub is stopped and started again many times (through the demo's dev routes),
 * received by real `ably` Realtime subscribers that get their tokens from `/api/ably/token`. Then every user's
 * `/api/ably/history` is read. Exit 1 if an accepted message was lost (not delivered, or not in history exactly once)
 * or reached a subscriber under two ids, or if fewer restarts happened than asked.
 *
 *   PORT=18888 ABLY_HUB_PORT=18889 npm start &
 *   npx tsx scripts/fault-run.ts --url http://localhost:18888 [--restarts 10] [--users 40] [--per-user 24]
 *
 * Needs the dev routes (npm start with its generated JWT secret, or DEV_LOGIN=true). The publish rate limit is per
 * user (60 a minute by default), so the messages are spread over many users.
 */
import { parseArgs } from 'node:util'
import * as Ably from 'ably'
import { scriptCli } from './cli.ts'

const cli = scriptCli(
  'fault-run',
  'Usage: npx tsx scripts/fault-run.ts [--url http://localhost:8888] [--restarts 10] [--users 40] [--per-user 24] [--outage-ms 1500] [--up-ms 1500] [--settle-seconds 60]',
  'Publishes through a running npm start (loopback only) while its hub is stopped and started again; exit 1 if an\naccepted message was lost or duplicated. Needs its dev routes (its generated JWT secret, or DEV_LOGIN=true).',
)
const values = cli.parse(() =>
  parseArgs({
    options: {
      url: { type: 'string', default: 'http://localhost:8888' },
      restarts: { type: 'string', default: '10' },
      users: { type: 'string', default: '40' },
      'per-user': { type: 'string', default: '24' },
      'outage-ms': { type: 'string', default: '1500' },
      'up-ms': { type: 'string', default: '1500' },
      'settle-seconds': { type: 'string', default: '60' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  }),
)
const base = cli.target(values.url)
const RESTARTS = cli.count('restarts', values.restarts, 0)
const USERS = Array.from({ length: cli.count('users', values.users) }, (_, i) => `fault${i}`)
const PER_USER = cli.count('per-user', values['per-user'])
const OUTAGE_MS = cli.count('outage-ms', values['outage-ms'], 0)
const UP_MS = cli.count('up-ms', values['up-ms'], 0)
const run = Date.now().toString(36)
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const started = performance.now()

const json = (path: string, body: unknown) =>
  fetch(new URL(path, base), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) })

// ---- Sessions and subscribers. ----
const NO_DEV_ROUTES = `${base.origin} has no dev routes: the fault run needs npm start with its generated JWT secret, or DEV_LOGIN=true`
const configRes = await fetch(new URL('/demo/config.json', base))
if (!configRes.ok) cli.fail(`${NO_DEV_ROUTES} (GET /demo/config.json answered ${configRes.status})`)
const config = (await configRes.json()) as { ably: Ably.ClientOptions; hubControl: boolean; devLogin: boolean }
if (!config.hubControl || !config.devLogin) cli.fail(NO_DEV_ROUTES)
const tokens = new Map<string, string>()
for (const user of USERS) {
  const res = await json('/dev/session', { userId: user, ttlSec: 3600 })
  if (!res.ok) cli.fail(`POST /dev/session answered ${res.status}`)
  tokens.set(user, ((await res.json()) as { token: string }).token)
}

/** Deliveries per message id, and the ids each message text arrived under. */
const deliveries = new Map<string, number>()
const idsByText = new Map<string, Set<string>>()
const clients: Ably.Realtime[] = []
await Promise.all(
  USERS.map(async (user) => {
    const client = new Ably.Realtime({
      ...config.ably,
      disconnectedRetryTimeout: 500,
      suspendedRetryTimeout: 1000,
      logLevel: 0,
      authCallback: async (_params, callback) => {
        try {
          const res = await fetch(new URL('/api/ably/token', base), { method: 'POST', headers: { Authorization: `Bearer ${tokens.get(user)}` } })
          if (!res.ok) return callback({ code: 40170, statusCode: res.status, message: `token ${res.status}` } as Ably.ErrorInfo, null)
          callback(null, ((await res.json()) as { token: string }).token)
        } catch (error) {
          callback(error as Ably.ErrorInfo, null)
        }
      },
    })
    clients.push(client)
    const channel = client.channels.get(`sms:${user}:c1`)
    await channel.subscribe('message', (message) => {
      const text = (message.data as { message?: string }).message ?? ''
      if (!text.startsWith(`fault ${run} `) || !message.id) return
      deliveries.set(message.id, (deliveries.get(message.id) ?? 0) + 1)
      const ids = idsByText.get(text) ?? new Set<string>()
      ids.add(message.id)
      idsByText.set(text, ids)
    })
  }),
)

// ---- Publishing, while the hub restarts. ----
const accepted = new Map<string, string>() // messageId → text
const statuses: Record<string, number> = {}
let refused = 0
let retries = 0

async function publish(user: string, index: number) {
  const text = `fault ${run} ${user} ${index}`
  const body = JSON.stringify({
    channelName: `sms:${user}:c1`,
    eventName: 'message',
    data: { contactId: 'c1', userId: user, phoneNumberId: 'pn1', message: text, direction: 'inbound', timestamp: new Date().toISOString() },
  })
  // One key per message: a retry after a lost answer or a 5xx is the same request, never a second message.
  const headers = { Authorization: `Bearer ${tokens.get(user)}`, 'Content-Type': 'application/json', 'Idempotency-Key': `${run}-${user}-${index}` }
  for (let attempt = 0; attempt < 8; attempt++) {
    if (attempt > 0) retries += 1
    let res: Response
    try {
      res = await fetch(new URL('/api/ably/publish', base), { method: 'POST', headers, body })
    } catch {
      await sleep(500)
      continue
    }
    statuses[res.status] = (statuses[res.status] ?? 0) + 1
    const answer = (await res.json()) as { messageId?: string }
    if (res.status === 200 || res.status === 202) {
      accepted.set(answer.messageId as string, text)
      return
    }
    if (res.status !== 429 && res.status < 500) break
    await sleep(1000 * Number(res.headers.get('retry-after') ?? 1))
  }
  refused += 1
}

let restartsDone = 0
const restarting = (async () => {
  for (let i = 0; i < RESTARTS; i++) {
    await sleep(UP_MS)
    if ((await json('/dev/hub/stop', {})).ok) {
      await sleep(OUTAGE_MS)
      if ((await json('/dev/hub/start', {})).ok) restartsDone += 1
    }
  }
})()

// Spread the messages over the restarts: one per user per step, in rounds.
const spanMs = RESTARTS * (UP_MS + OUTAGE_MS)
const gapMs = spanMs / PER_USER
const publishing = (async () => {
  for (let round = 0; round < PER_USER; round++) {
    const roundStarted = performance.now()
    await Promise.all(USERS.map((user) => publish(user, round)))
    await sleep(Math.max(0, gapMs - (performance.now() - roundStarted)))
  }
})()
await Promise.all([restarting, publishing])

// ---- Settling: the outbox sweeper delivers what was queued while the hub was down. ----
const settleUntil = performance.now() + Number(values['settle-seconds']) * 1000
while (performance.now() < settleUntil && [...accepted.keys()].some((id) => !deliveries.has(id))) await sleep(500)

// ---- History: every accepted message stored exactly once. ----
let inHistory = 0
let historyDuplicates = 0
for (const user of USERS) {
  const seen = new Set<string>()
  let before: string | null | undefined
  do {
    const query = new URLSearchParams({ channelName: `sms:${user}:c1`, limit: '100', ...(before && { before }) })
    const res = await fetch(new URL(`/api/ably/history?${query}`, base), { headers: { Authorization: `Bearer ${tokens.get(user)}` } })
    const page = (await res.json()) as { messages: { id: string; data: { message?: string } }[]; next: string | null }
    for (const item of page.messages) {
      if (!item.data.message?.startsWith(`fault ${run} `)) continue
      if (seen.has(item.id)) historyDuplicates += 1
      seen.add(item.id)
    }
    before = page.next
  } while (before)
  for (const id of seen) if (accepted.has(id)) inHistory += 1
}

for (const client of clients) client.close()
const delivered = [...accepted.keys()].filter((id) => deliveries.has(id)).length
const report = {
  target: base.origin,
  seconds: Math.round((performance.now() - started) / 100) / 10,
  hubRestarts: restartsDone,
  messages: USERS.length * PER_USER,
  accepted: accepted.size,
  statuses,
  retries,
  refused,
  delivered,
  lost: accepted.size - delivered,
  missingFromHistory: accepted.size - inHistory,
  historyDuplicates,
  duplicateDeliveries: [...deliveries.values()].reduce((sum, count) => sum + count - 1, 0),
  duplicatesAfterDedup: [...idsByText.values()].filter((ids) => ids.size > 1).length,
}
console.log(JSON.stringify(report, null, 2))
const failed =
  report.lost > 0 || report.missingFromHistory > 0 || report.historyDuplicates > 0 || report.duplicatesAfterDedup > 0 || restartsDone < RESTARTS || refused > 0
process.exit(failed ? 1 : 0)
