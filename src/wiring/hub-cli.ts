#!/usr/bin/env node
/**
 * Runs the hub alone: `ABLY_API_KEY=app.key:secret ABLY_HUB_PORT=8889 npx tsx src/wiring/hub-cli.ts`.
 * Logs one JSON line per event on stdout; stops on SIGINT or SIGTERM.
 */
import { ConfigError, parseAblyEnv } from '../config/index.ts'
import { createHub } from '../hub/index.ts'

function fail(message: string): never {
  console.error(message)
  process.exit(1)
}

let key: { name: string; secret: string }
try {
  // The API's own key parser: the hub accepts exactly the keys the API does.
  key = parseAblyEnv({ ABLY_API_KEY: process.env.ABLY_API_KEY }).key
} catch (error) {
  if (!(error instanceof ConfigError)) throw error
  fail(error.message)
}
const port = Number(process.env.ABLY_HUB_PORT ?? 8889)
if (!Number.isInteger(port) || port < 0 || port > 65_535) fail('ABLY_HUB_PORT must be a port number (0 picks a free one)')

const hub = createHub({
  keys: [{ name: key.name, secret: key.secret }],
  port,
  log: (line) => console.log(JSON.stringify({ time: new Date().toISOString(), ...line })),
})
const { url } = await hub.listen()
console.log(JSON.stringify({ event: 'hub.ready', url, clientOptions: { endpoint: 'localhost', port: hub.port, tls: false } }))

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void hub.close().then(() => process.exit(0)))
}
