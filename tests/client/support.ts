/** The pieces of `npm start` wired by hand, so a test can tune the hub (history kept, connection state TTL). */
import './node-websocket.ts'
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import type { PublishResponse } from '../../src/contract/index.ts'
import type { Env } from '../../src/config/index.ts'
import { nodeGatewayFromEnv, type NodeGateway, type NodeGatewayOptions } from '../../src/wiring/node-gateway.ts'
import { createHub, type Hub, type HubOptions } from '../../src/hub/index.ts'
import { mintAppToken } from '../../src/local/mint-app-token.ts'
import { silentLogger } from '../../src/log/index.ts'
import { TEST_JWT_SECRET } from '../support/fixtures.ts'

const KEY = { name: 'clientTests.key', secret: 'client-tests-hub-secret-0123456789' }

export interface ClientStack extends NodeGateway {
  url: string
  hub: Hub
  /** ably-js options for the hub: quick retries so tests do not wait 15 s, and quiet (the tests cause the errors it logs). */
  ably: { endpoint: string; port: number; tls: false; disconnectedRetryTimeout: number; suspendedRetryTimeout: number; logLevel: number }
  mint(userId: string, ttlSec?: number): Promise<string>
  publish(appToken: string, channelName: string, eventName: string, data: Record<string, unknown>): Promise<{ status: number; body: PublishResponse }>
  close(): Promise<void>
}

/**
 * Hub, gateway (in-memory store) and API on ephemeral loopback ports. `env` adds to the API's environment; with
 * `ABLY_REVOCABLE_TOKENS=true` the hub's key has revocable tokens, as the dashboard step sets it on Ably.
 */
export async function startClientStack(
  hubOptions: Partial<HubOptions> = {},
  { env = {}, ...options }: { env?: Env } & Pick<NodeGatewayOptions, 'revocationStore' | 'log' | 'policy'> = {},
): Promise<ClientStack> {
  const hub = createHub({ keys: [{ ...KEY, revocableTokens: env.ABLY_REVOCABLE_TOKENS === 'true' }], ...hubOptions })
  const { port: hubPort } = await hub.listen(0)
  const node = nodeGatewayFromEnv(
    { JWT_SECRET: TEST_JWT_SECRET, ABLY_API_KEY: `${KEY.name}:${KEY.secret}`, ABLY_REST_URL: `http://localhost:${hubPort}`, MESSAGE_STORE: 'memory', ...env },
    { log: silentLogger, ...options },
  )
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const started = serve({ fetch: node.app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(started))
  })
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    ...node,
    url,
    hub,
    ably: { endpoint: 'localhost', port: hubPort, tls: false, disconnectedRetryTimeout: 500, suspendedRetryTimeout: 500, logLevel: 0 },
    mint: (userId, ttlSec) => mintAppToken(TEST_JWT_SECRET, { userId, ...(ttlSec !== undefined && { ttlSec }) }),
    async publish(appToken, channelName, eventName, data) {
      const res = await fetch(`${url}/api/ably/publish`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${appToken}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ channelName, eventName, data }),
      })
      return { status: res.status, body: (await res.json()) as PublishResponse }
    },
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        if ('closeAllConnections' in server) server.closeAllConnections()
      })
      await node.gateway.close()
      await hub.close()
    },
  }
}

/** The data of one SMS in `userId`'s conversation with `contactId`. */
export const sms = (userId: string, contactId: string, message: string) => ({
  contactId,
  userId,
  phoneNumberId: 'pn1',
  message,
  direction: 'inbound',
  timestamp: '2026-01-01T00:00:00Z',
})

/** A fetch that counts requests by path. */
export function countingFetch(): { fetch: typeof globalThis.fetch; count(path: string): number } {
  const counts = new Map<string, number>()
  return {
    fetch(input, init) {
      const path = new URL(input instanceof Request ? input.url : String(input)).pathname
      counts.set(path, (counts.get(path) ?? 0) + 1)
      return globalThis.fetch(input, init)
    },
    count: (path) => counts.get(path) ?? 0,
  }
}

/** Resolves once `check` is true, polling; rejects with `what` after `timeoutMs`. */
export async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
