/**
 * Runs the hub alone: `ABLY_API_KEY=app.key:secret ABLY_HUB_PORT=8889 npx tsx src/hub/cli.ts`.
 * Logs one JSON line per event on stdout; stops on SIGINT or SIGTERM.
 */
import { createHub } from './index.ts'

const KEY = /^([^:\s.]+\.[^:\s.]+):([^:.\s]+)$/

function fail(message: string): never {
  console.error(message)
  process.exit(1)
}

const key = KEY.exec(process.env.ABLY_API_KEY ?? '')
if (!key) fail('ABLY_API_KEY must be set to an Ably-style key, appId.keyId:secret (e.g. dev.local:some-long-secret)')
const port = Number(process.env.ABLY_HUB_PORT ?? 8889)
if (!Number.isInteger(port) || port < 0 || port > 65_535) fail('ABLY_HUB_PORT must be a port number (0 picks a free one)')

const hub = createHub({
  keys: [{ name: key[1]!, secret: key[2]! }],
  port,
  log: (line) => console.log(JSON.stringify({ time: new Date().toISOString(), ...line })),
})
const { url } = await hub.listen()
console.log(JSON.stringify({ event: 'hub.ready', url, clientOptions: { endpoint: 'localhost', port: hub.port, tls: false } }))

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void hub.close().then(() => process.exit(0)))
}
