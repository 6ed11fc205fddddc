#!/usr/bin/env node
/**
 * Runs the hub alone: `ABLY_API_KEY=app.key:local-hub-secret-0123456789 ABLY_HUB_PORT=8889 npx tsx src/wiring/hub-cli.ts`.
 * Logs one JSON line per event on stdout; stops on SIGINT or SIGTERM.
 */
import { checkEnv } from '../config/check.ts'
import { ConfigError, readAbly } from '../config/index.ts'
import { PortInUseError, portProblem, readPort } from './local-stack.ts'
import { createHub } from '../hub/index.ts'

function fail(message: string): never {
  console.error(message)
  process.exit(1)
}

let settings: { key: { name: string; secret: string }; port: number }
try {
  // The API's own key parser: the hub accepts exactly the keys the API does. One pass names every bad variable.
  settings = checkEnv((problems) => {
    const port = readPort(process.env, 'ABLY_HUB_PORT', 8889, problems)
    const ably = readAbly(process.env, problems, { restUrl: false })
    return ably && { key: ably.key, port }
  })
} catch (error) {
  if (!(error instanceof ConfigError)) throw error
  fail(error.message)
}
const { key, port } = settings
const hub = createHub({
  keys: [{ name: key.name, secret: key.secret }],
  port,
  log: (line) => console.log(JSON.stringify({ time: new Date().toISOString(), ...line })),
})
// How to start it again: the package's bin as a site runs it, or this file as this repository does.
const command = process.argv[1]?.endsWith('.ts') ? 'npx tsx src/wiring/hub-cli.ts' : 'npx ably-hub'
const { url } = await hub
  .listen()
  .catch((error: unknown) =>
    fail(new PortInUseError([portProblem(error, port, 'ABLY_HUB_PORT', 'the local Ably hub')], command, '`npm start` or another hub').message),
  )
console.log(JSON.stringify({ event: 'hub.ready', url, clientOptions: { endpoint: 'localhost', port: hub.port, tls: false } }))

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void hub.close().then(() => process.exit(0)))
}
