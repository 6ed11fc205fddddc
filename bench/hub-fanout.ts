/**
 * Fan-out through the local hub: real ably Realtime subscribers (MessagePack) on one channel, one
 * Realtime publisher. `npx tsx bench/hub-fanout.ts` prints one JSON line; `bench/run.ts` imports
 * `measureHubFanout`.
 */
import { pathToFileURL } from 'node:url'
import * as Ably from 'ably'
import { createHub } from '../src/hub/index.ts'

export interface HubFanoutOptions {
  subscribers?: number
  messages?: number
  payloadBytes?: number
  /** Publishes in flight at once. */
  window?: number
  /** Hard bound on the measured phase; a run that hits it reports `complete: false`. */
  timeoutMs?: number
}

export interface HubFanoutResult {
  subscribers: number
  messages: number
  payloadBytes: number
  /** Messages received, summed over all subscribers. */
  deliveries: number
  /** From the first publish to the last delivery (or the timeout). */
  elapsedMs: number
  deliveriesPerSecond: number
  complete: boolean
}

const KEY = { name: 'bench.fanout', secret: 'fanoutbenchsecret' }

/** Runs one fan-out measurement against a fresh hub on an ephemeral loopback port. */
export async function measureHubFanout({
  subscribers = 100,
  messages = 200,
  payloadBytes = 100,
  window = 20,
  timeoutMs = 25_000,
}: HubFanoutOptions = {}): Promise<HubFanoutResult> {
  // Fan-out is what is measured: the publisher is not held to Ably's per-connection publish limit (50/s), which the
  // hub enforces by default (tests/hub/limits.test.ts).
  const hub = createHub({ keys: [KEY], maxInboundRate: 1_000_000 })
  const { port } = await hub.listen()
  const options: Ably.ClientOptions = {
    key: `${KEY.name}:${KEY.secret}`,
    endpoint: 'localhost',
    port,
    tls: false,
    useBinaryProtocol: true,
    logLevel: 0,
  }
  const clients: Ably.Realtime[] = []
  try {
    let deliveries = 0
    const expected = subscribers * messages
    let finish = () => {}
    const done = new Promise<void>((resolve) => (finish = resolve))
    await Promise.all(
      Array.from({ length: subscribers }, async () => {
        const client = new Ably.Realtime(options)
        clients.push(client)
        await client.channels.get('fanout').subscribe(() => {
          if (++deliveries === expected) finish()
        })
      }),
    )
    const publisher = new Ably.Realtime(options)
    clients.push(publisher)
    const channel = publisher.channels.get('fanout')
    await publisher.connection.whenState('connected')
    const data = 'x'.repeat(payloadBytes)

    const started = performance.now()
    const publishAll = async () => {
      for (let sent = 0; sent < messages; sent += window) {
        const batch = Array.from({ length: Math.min(window, messages - sent) }, (_, index) => channel.publish('tick', `${sent + index}:${data}`))
        await Promise.all(batch)
      }
    }
    let timer: NodeJS.Timeout | undefined
    const timedOut = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))
    await Promise.race([Promise.all([publishAll(), done]), timedOut])
    clearTimeout(timer)
    const elapsedMs = performance.now() - started
    return {
      subscribers,
      messages,
      payloadBytes,
      deliveries,
      elapsedMs: Math.round(elapsedMs),
      deliveriesPerSecond: Math.round((deliveries / elapsedMs) * 1000),
      complete: deliveries === expected,
    }
  } finally {
    for (const client of clients) client.close()
    await hub.close()
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(JSON.stringify({ bench: 'hub-fanout', ...(await measureHubFanout()) }))
}
