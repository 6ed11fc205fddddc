/**
 * Time to a usable connection: from an `ably` Realtime client asking the app for a credential until it is connected
 * to the local hub. Ours hands back an Ably JWT the client connects with; the TokenRequest flow (alternative (a))
 * hands back a TokenRequest the client must first exchange at the hub's `POST /keys/:key/requestToken`. Both API
 * servers and the hub run in this process on loopback; each trial runs both flows, in alternating order.
 */
import type { AddressInfo } from 'node:net'
import { pathToFileURL } from 'node:url'
import { serve, type ServerType } from '@hono/node-server'
import * as Ably from 'ably'
import { createHub } from '../src/hub/index.ts'
import { median } from './stats.ts'
import { oursHandler } from './token/contenders/ours.ts'
import { tokenRequestHandler } from './token/contenders/token-request.ts'
import { ABLY_KEY_NAME, ABLY_KEY_SECRET, BENCH_ENV, TOKEN_PATH, mintAppTokens, type FetchHandler } from './token/fixtures.ts'

export interface ConnectOptions {
  /** Trials per flow, after `warmup` unmeasured ones each. */
  trials?: number
  warmup?: number
}

export interface ConnectResult {
  trials: number
  /** Median ms from `new Realtime()` to `connected`, per flow. */
  oursMs: number
  tokenRequestMs: number
  /** Median over trials of ours' time over the TokenRequest flow's in the same trial (lower is better). */
  ratio: number
  oursP90Ms: number
  tokenRequestP90Ms: number
}

type Flow = 'ours' | 'tokenRequest'

export async function measureConnect({ trials = 100, warmup = 10 }: ConnectOptions = {}): Promise<ConnectResult> {
  const hub = createHub({ keys: [{ name: ABLY_KEY_NAME, secret: ABLY_KEY_SECRET }] })
  const { port: hubPort } = await hub.listen()
  const apis = {
    ours: await listen(oursHandler({ ...BENCH_ENV, ABLY_REST_URL: `http://127.0.0.1:${hubPort}` })),
    tokenRequest: await listen(tokenRequestHandler()),
  }
  const tokens = await mintAppTokens(2 * (trials + warmup))
  const times: Record<Flow, number[]> = { ours: [], tokenRequest: [] }
  try {
    for (let trial = 0; trial < trials + warmup; trial++) {
      const order: Flow[] = trial % 2 === 0 ? ['ours', 'tokenRequest'] : ['tokenRequest', 'ours']
      for (const flow of order) {
        const appToken = tokens.pop() as string
        const url = `http://127.0.0.1:${(apis[flow].address() as AddressInfo).port}${TOKEN_PATH}`
        const ms = await timeToConnected(url, appToken, hubPort)
        if (trial >= warmup) times[flow].push(ms)
      }
    }
  } finally {
    await Promise.all(Object.values(apis).map((server) => new Promise((resolve) => server.close(resolve))))
    await hub.close()
  }
  const p90 = (values: number[]) => [...values].sort((a, b) => a - b)[Math.ceil(values.length * 0.9) - 1] as number
  const oursMs = median(times.ours)
  const tokenRequestMs = median(times.tokenRequest)
  const ratio = median(times.ours.map((ours, trial) => ours / (times.tokenRequest[trial] as number)))
  return { trials, oursMs, tokenRequestMs, ratio, oursP90Ms: p90(times.ours), tokenRequestP90Ms: p90(times.tokenRequest) }
}

/**
 * One browser-like client: its authCallback POSTs the app JWT to `url` and hands ably-js whatever comes back (ours:
 * `{ token }`, an Ably JWT; the alternative: a TokenRequest, which ably-js exchanges at the hub itself).
 */
async function timeToConnected(url: string, appToken: string, hubPort: number): Promise<number> {
  const started = performance.now()
  const client = new Ably.Realtime({
    endpoint: '127.0.0.1',
    port: hubPort,
    tls: false,
    logLevel: 0,
    authCallback: (_params, callback) => {
      fetch(url, { method: 'POST', headers: { authorization: `Bearer ${appToken}` } })
        .then((res) => res.json() as Promise<Ably.TokenRequest | { token: string }>)
        .then(
          (body) => callback(null, 'mac' in body ? body : body.token),
          (error: Error) => callback(error.message, null),
        )
    },
  })
  try {
    await client.connection.once('connected')
    return performance.now() - started
  } finally {
    client.close()
  }
}

function listen(fetch: FetchHandler): Promise<ServerType> {
  return new Promise((resolve) => {
    const server = serve({ fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(server))
  })
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(JSON.stringify(await measureConnect()))
}
