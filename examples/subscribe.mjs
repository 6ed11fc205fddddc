// A plain Node script that uses only the public `ably` package: it gets a token from our own /api/ably/token,
// subscribes to the user's conversation channel, and receives a message that a server publishes with the key.
// It prints that message as one JSON line and exits 0; on any problem it prints one line on stderr and exits 1 or 2.
//
//   API_URL=http://localhost:8888 APP_TOKEN=$TOKEN ABLY_API_KEY=<key> ABLY_HUB_PORT=8889 node examples/subscribe.mjs
import * as Ably from 'ably'

const { API_URL = 'http://localhost:8888', APP_TOKEN, ABLY_API_KEY, ABLY_HUB_PORT = '8889', CONTACT_ID = 'c1' } = process.env

/** One line on stderr, then exit. */
function fail(line, code = 1) {
  console.error(`subscribe: ${line}`)
  process.exit(code)
}

if (!APP_TOKEN) fail('APP_TOKEN is not set: an app JWT, e.g. APP_TOKEN=$(npm run -s dev:token)', 2)
if (!ABLY_API_KEY) fail('ABLY_API_KEY is not set: the key the server side publishes with (for npm start, the ablyKey in .local/dev-secrets.json)', 2)

const hub = { endpoint: 'localhost', port: Number(ABLY_HUB_PORT), tls: false }
let refusal

const realtime = new Ably.Realtime({
  ...hub,
  // ably-js's own error log would repeat, over several lines, what this script reports in one.
  logLevel: 0,
  authCallback: async (_params, callback) => {
    try {
      const res = await fetch(`${API_URL}/api/ably/token`, { method: 'POST', headers: { Authorization: `Bearer ${APP_TOKEN}` } })
      if (!res.ok) {
        const { code } = await res.json().catch(() => ({}))
        refusal = `the token endpoint answered ${res.status}${code ? ` ${code}` : ''}${res.status === 403 ? ': APP_TOKEN is invalid or expired (mint another with npm run -s dev:token)' : ''}`
        // A 403 is final for ably-js; anything else it retries.
        return callback({ code: 40170, statusCode: res.status, message: refusal }, null)
      }
      const { token } = await res.json()
      callback(null, token)
    } catch (error) {
      refusal = `could not reach ${API_URL}/api/ably/token (${error?.cause?.code ?? error?.message ?? error})`
      callback(error, null)
    }
  },
})

const outcome = await Promise.race([
  realtime.connection.whenState('connected').then(() => 'connected'),
  realtime.connection.whenState('failed').then(() => 'failed'),
  new Promise((resolve) => setTimeout(resolve, 15_000, 'timeout').unref()),
])
if (outcome !== 'connected') {
  realtime.close()
  fail(
    refusal ??
      (outcome === 'failed'
        ? `the connection failed: ${realtime.connection.errorReason?.message}`
        : `not connected to the hub at localhost:${ABLY_HUB_PORT} within 15 s`),
  )
}

const userId = realtime.auth.clientId
const channel = realtime.channels.get(`sms:${userId}:${CONTACT_ID}`)
const received = new Promise((resolve) => channel.subscribe('message', resolve))
await channel.attach()

const rest = new Ably.Rest({ ...hub, key: ABLY_API_KEY })
try {
  await rest.channels.get(channel.name).publish('message', { text: 'hello from the server' })
} catch (error) {
  realtime.close()
  fail(`publishing with ABLY_API_KEY failed: ${error.message}`)
}

const message = await received
console.log(JSON.stringify({ clientId: userId, channel: channel.name, name: message.name, data: message.data }))
realtime.close()
