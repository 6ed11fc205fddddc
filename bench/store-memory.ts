/**
 * The memory of `npm start`'s process under publishes (issue 11 #9). `npx tsx bench/store-memory.ts [count] [bytes]` forks the
 * local stack (`startLocalStack`: API, gateway with the embedded store, local hub) as its own Node process on
 * ephemeral loopback ports, publishes `count` (default 10,000) distinct messages, each with a text of `bytes` (default
 * 200), to it over HTTP from this process,
 * and prints one JSON line: the server's RSS and heap after a full GC, before and after, and how many messages its
 * store still holds.
 */
import { fork } from 'node:child_process'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

interface Memory {
  rssMb: number
  heapUsedMb: number
  stored: number
}

type Request = { type: 'memory' }
type Reply = { type: 'ready'; url: string; token: string } | ({ type: 'memory' } & Memory)

/** The server side: runs in the forked process. */
async function serve() {
  const { startLocalStack } = await import('../src/wiring/local-stack.ts')
  const { silentLogger } = await import('../src/log/index.ts')
  const dir = await mkdtemp(join(tmpdir(), 'store-memory-'))
  const stack = await startLocalStack({
    env: { PUBLISH_RATE_LIMIT: '0' },
    port: 0,
    hubPort: 0,
    secretsFile: join(dir, 'secrets.json'),
    log: silentLogger,
    sweepIntervalMs: 60_000,
  })
  const send = (reply: Reply) => process.send?.(reply)
  const gc = (globalThis as { gc?: () => void }).gc
  process.on('message', async (request: Request) => {
    if (request.type !== 'memory') return
    for (let n = 0; n < 3; n += 1) {
      gc?.()
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    const { rss, heapUsed } = process.memoryUsage()
    let stored = 0
    for (let c = 0; c < 20; c += 1) {
      let before: string | undefined
      do {
        const page = await stack.gateway.history({ caller: { kind: 'server' }, channelName: `sms:alice:c${c}`, limit: 100, ...(before && { before }) })
        stored += page.messages.length
        before = page.next ?? undefined
      } while (before)
    }
    send({ type: 'memory', rssMb: Math.round(rss / 2 ** 20), heapUsedMb: Math.round(heapUsed / 2 ** 20), stored })
  })
  process.on('disconnect', () => void stack.close().then(() => process.exit(0)))
  send({ type: 'ready', url: stack.url, token: await stack.mintAppToken('alice') })
}

export async function measureStoreMemory(count = 10_000, messageBytes = 200, concurrency = 8) {
  const child = fork(fileURLToPath(import.meta.url), ['--serve'], {
    execArgv: ['--import', 'tsx', '--expose-gc'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  })
  const replies: Reply[] = []
  const waiters: ((reply: Reply) => void)[] = []
  child.on('message', (reply: Reply) => {
    const waiter = waiters.shift()
    if (waiter) waiter(reply)
    else replies.push(reply)
  })
  const next = () => new Promise<Reply>((resolve) => (replies.length > 0 ? resolve(replies.shift() as Reply) : waiters.push(resolve)))
  const memory = async () => {
    child.send({ type: 'memory' } satisfies Request)
    const reply = await next()
    if (reply.type !== 'memory') throw new Error('expected a memory reply')
    return { rssMb: reply.rssMb, heapUsedMb: reply.heapUsedMb, stored: reply.stored }
  }
  try {
    const ready = await next()
    if (ready.type !== 'ready') throw new Error('expected the server to be ready')
    const headers = { 'Content-Type': 'application/json', Authorization: `Bearer ${ready.token}` }
    const send = (n: number) =>
      fetch(`${ready.url}/api/ably/publish`, {
        method: 'POST',
        headers,
        body: JSON.stringify({
          channelName: `sms:alice:c${Math.abs(n) % 20}`,
          eventName: 'message',
          data: {
            contactId: `c${Math.abs(n) % 20}`,
            userId: 'alice',
            phoneNumberId: 'p1',
            message: `message ${n} `.padEnd(messageBytes, 'x'),
            direction: 'inbound',
            timestamp: new Date().toISOString(),
            from: '+15550100',
            to: '+15550101',
          },
        }),
      }).then(async (res) => (await res.arrayBuffer(), res.status))
    for (let n = 1; n <= 200; n += 1) await send(-n)
    const before = await memory()
    let sent = 0
    const statuses: Record<string, number> = {}
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (sent < count) {
          const status = await send(sent++)
          statuses[status] = (statuses[status] ?? 0) + 1
        }
      }),
    )
    const after = await memory()
    return {
      count,
      messageBytes,
      statuses,
      before,
      after,
      rssGrowthMb: after.rssMb - before.rssMb,
      heapGrowthMb: after.heapUsedMb - before.heapUsedMb,
      node: process.version,
    }
  } finally {
    child.disconnect()
  }
}

if (process.argv.includes('--serve')) await serve()
else if (import.meta.url === `file://${process.argv[1]}`)
  console.log(JSON.stringify(await measureStoreMemory(Number(process.argv[2] ?? 10_000), Number(process.argv[3] ?? 200))))
