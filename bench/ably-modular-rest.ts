/**
 * The `AblyRest` port rebuilt on ably-js's modular build (`BaseRest` + `FetchRequest`), only to measure what it
 * would cost the edge bundle against the plain-`fetch` port in src/ably-rest. Not used by the app.
 */
import type { BatchPresenceFailureResult, BatchPresenceSuccessResult, BatchResult } from 'ably'
import { BaseRest, FetchRequest } from 'ably/modular'
import { AblyRestError, type AblyRest, type FetchAblyRestOptions } from '../src/ably-rest/index.ts'

/** An `AblyRest` over ably-js. ably-js takes no AbortSignal, so `options.signal` is ignored. */
export function createAblyModularRest({ key, restUrl }: Pick<FetchAblyRestOptions, 'key' | 'restUrl'>): AblyRest {
  const url = new URL(restUrl)
  const tls = url.protocol === 'https:'
  const port = Number(url.port) || (tls ? 443 : 80)
  const rest = new BaseRest({
    key: `${key.name}:${key.secret}`,
    endpoint: url.hostname,
    tls,
    ...(tls ? { tlsPort: port } : { port }),
    useBinaryProtocol: false,
    plugins: { FetchRequest },
  })
  return {
    time: () => rest.time(),
    async channelStatus(channel) {
      const { status } = await rest.channels.get(channel).status()
      return { isActive: status.isActive, ...(status.occupancy?.metrics && { occupancy: status.occupancy.metrics }) }
    },
    async publish(channel, messages) {
      await rest.channels.get(channel).publish(messages)
    },
    async batchPublish(specs) {
      const batches = await rest.batchPublish(specs)
      return batches.flatMap(({ results }) =>
        results.map((result) =>
          'error' in result
            ? { channel: result.channel, error: new AblyRestError(result.error.message, { statusCode: result.error.statusCode, ablyCode: result.error.code }) }
            : { channel: result.channel, messageId: result.messageId },
        ),
      )
    },
    async batchPresence(channels) {
      // ably.d.ts declares a list, but ably-js hands back Ably's one BatchResult as it came (see tests/hub/rest.test.ts).
      const { results } = (await rest.batchPresence([...channels])) as unknown as BatchResult<BatchPresenceSuccessResult | BatchPresenceFailureResult>
      return results.map((result) =>
        'error' in result
          ? { channel: result.channel, error: new AblyRestError(result.error.message, { statusCode: result.error.statusCode, ablyCode: result.error.code }) }
          : { channel: result.channel, members: result.presence.map(({ clientId, connectionId }) => ({ clientId, connectionId })) },
      )
    },
  }
}
