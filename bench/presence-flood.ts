// The figure of issue 11 #10 (README, Rate and size limits): 1,000 presence updates of 60 KiB on one connection,
// in MessagePack and JSON, against a hub with default limits on loopback. Run: npx tsx bench/presence-flood.ts
import * as Ably from 'ably'
import { createHub } from '../src/hub/index.ts'
const key = { name: 'app.root', secret: 'rootsecret0123456789' }
const hub = createHub({ keys: [key] })
const { port } = await hub.listen()
for (const useBinaryProtocol of [true, false]) {
  const client = new Ably.Realtime({ endpoint: 'localhost', port, tls: false, key: `${key.name}:${key.secret}`, clientId: 'f', useBinaryProtocol, logLevel: 0 })
  const channel = client.channels.get('flood' + useBinaryProtocol)
  await channel.attach()
  const started = Date.now()
  const results = await Promise.allSettled(Array.from({ length: 1000 }, () => channel.presence.update('x'.repeat(60 * 1024))))
  const ms = Date.now() - started
  const codes: Record<string, number> = {}
  for (const r of results) {
    const k = r.status === 'fulfilled' ? 'ok' : String((r.reason as Ably.ErrorInfo).code)
    codes[k] = (codes[k] ?? 0) + 1
  }
  const rest = new Ably.Rest({ endpoint: 'localhost', port, tls: false, key: `${key.name}:${key.secret}`, logLevel: 0 })
  const kept = (await rest.channels.get('flood' + useBinaryProtocol).presence.history({ limit: 1000 })).items.length
  console.log(useBinaryProtocol ? 'msgpack' : 'json', { ms, codes, kept, state: client.connection.state })
  client.close()
}
await hub.close()
process.exit(0)
