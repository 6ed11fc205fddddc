// A plain Node script that uses only the public `ably` package: it gets a token from our own /api/ably/token,
// subscribes to the user's conversation channel, and receives a message that a server publishes with the key.
//
//   API_URL=http://localhost:8888 APP_TOKEN=$TOKEN ABLY_API_KEY=<key> ABLY_HUB_PORT=8889 node examples/subscribe.mjs
import * as Ably from 'ably'

const { API_URL = 'http://localhost:8888', APP_TOKEN, ABLY_API_KEY, ABLY_HUB_PORT = '8889', CONTACT_ID = 'c1' } = process.env
const hub = { endpoint: 'localhost', port: Number(ABLY_HUB_PORT), tls: false }

const realtime = new Ably.Realtime({
  ...hub,
  authCallback: async (_params, callback) => {
    try {
      const res = await fetch(`${API_URL}/api/ably/token`, { method: 'POST', headers: { Authorization: `Bearer ${APP_TOKEN}` } })
      if (!res.ok) return callback({ code: 40170, statusCode: res.status, message: `token endpoint answered ${res.status}` }, null)
      const { token } = await res.json()
      callback(null, token)
    } catch (error) {
      callback(error, null)
    }
  },
})

await realtime.connection.once('connected')
const userId = realtime.auth.clientId
const channel = realtime.channels.get(`sms:${userId}:${CONTACT_ID}`)
const received = new Promise((resolve) => channel.subscribe('message', resolve))
await channel.attach()

const rest = new Ably.Rest({ ...hub, key: ABLY_API_KEY })
await rest.channels.get(channel.name).publish('message', { text: 'hello from the server' })

const message = await received
console.log(JSON.stringify({ clientId: userId, channel: channel.name, name: message.name, data: message.data }))
realtime.close()
