/** The smallest stats endpoint over an `AblyRest` port, as a Workers-style module, so two ports compare alone. */
import type { AblyRest } from '../../src/ably-rest/index.ts'
import type { AblyKey } from '../../src/config/index.ts'

export type PortFactory = (options: { key: AblyKey; restUrl: string }) => AblyRest

/** `GET /?channelName=…` → Ably's time and the channel's status, or a 503 naming the failure. */
export function statsModule(createPort: PortFactory) {
  return {
    async fetch(request: Request, env: { ABLY_API_KEY: string; ABLY_REST_URL: string }): Promise<Response> {
      const [name = '', secret = ''] = env.ABLY_API_KEY.split(':')
      const ably = createPort({ key: { appId: name.split('.')[0] ?? '', name, secret }, restUrl: env.ABLY_REST_URL })
      try {
        const channel = new URL(request.url).searchParams.get('channelName') ?? 'notifications:bench'
        const [time, status] = await Promise.all([ably.time(), ably.channelStatus(channel)])
        return Response.json({ status: 'healthy', time, channel: status })
      } catch (error) {
        return Response.json({ status: 'unhealthy', error: String(error) }, { status: 503 })
      }
    },
  }
}
