/**
 * The REST side of the hub as a Hono app: publish, history, channel status, presence, batch publish and
 * presence, time, stats and requestToken, in JSON or MessagePack per `Accept`, with errors in Ably's
 * exact shape.
 */
import { Hono, type Context } from 'hono'
import { cors } from 'hono/cors'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { effectiveClientId, resolveIdentity, type Authority, type Credential, type Identity } from '../auth.ts'
import { assertPermitted, type Operation } from '../capability.ts'
import type { ChannelStore, HistoryPage, HistoryQuery } from '../channels.ts'
import { CONTENT_TYPES, decode, encode, formatFromMediaType, type Format } from '../codec.ts'
import { asHubError, HubError, toErrorInfo } from '../errors.ts'
import { assertChannelName, assertPublishSize, messageToWire, parseMessages, presenceToWire, type InboundMessage } from '../messages.ts'
import { PresenceAction } from '../protocol.ts'
import type { LogLine, Realtime } from '../realtime/index.ts'
import { readBodyFirst } from './body.ts'
import { historyQuery, linkHeader, presenceLinkHeader, presenceQuery } from './paging.ts'
import { createRevokeTokens } from './revoke.ts'

export interface RestOptions {
  authority: Authority
  store: ChannelStore
  realtime: Pick<Realtime, 'publish' | 'occupancy' | 'connection' | 'applyRevocations'>
  now: () => number
  log: LogLine
  randomId: (bytes: number) => string
  maxMessageSize: number
  maxBodySize: number
}

const MAX_BATCH_CHANNELS = 100
const formatOf = (c: Context): Format => formatFromMediaType(c.req.header('accept'))

/** Answers `body` in the format the client accepts. */
function reply(c: Context, body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  const format = formatOf(c)
  return c.body(encode(body, format), status as ContentfulStatusCode, { 'content-type': CONTENT_TYPES[format], ...headers })
}

/** The one error renderer: Ably's `{ error: ErrorInfo }` body and its `X-Ably-Error*` headers. */
function renderError(c: Context, error: HubError): Response {
  return reply(c, { error: toErrorInfo(error) }, error.statusCode, {
    'x-ably-errorcode': String(error.code),
    'x-ably-errormessage': error.message.replace(/[^\x20-\x7e]/g, '?'),
  })
}

/** The request body, decoded per its `Content-Type`; its size is already capped by the body limit. */
async function readBody(c: Context): Promise<unknown> {
  return decode(new Uint8Array(await c.req.arrayBuffer()), formatFromMediaType(c.req.header('content-type')))
}

function asList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [value]
}

/** Runs `run` for each channel and reports per-channel success or error, as Ably's batch endpoints do. */
function batch<T extends object>(channels: unknown[], run: (channel: string) => T) {
  const results = channels.map((channel) => {
    try {
      return run(assertChannelName(channel))
    } catch (error) {
      return { channel, error: toErrorInfo(asHubError(error)) }
    }
  })
  const failureCount = results.filter((result) => 'error' in result).length
  return { successCount: results.length - failureCount, failureCount, results }
}

/** Builds the app; serve it with `app.fetch`. */
export function createRestApp({ authority, store, realtime, now, log, randomId, maxMessageSize, maxBodySize }: RestOptions): Hono {
  /** The authenticated caller and who it acts as (`X-Ably-ClientId` is base64, as ably-js sends it). */
  const caller = async (c: Context): Promise<{ credential: Credential; identity: Identity }> => {
    const credential = await authority.authenticateHeader(c.req.header('authorization') ?? null)
    const header = c.req.header('x-ably-clientid')
    const clientId = header ? Buffer.from(header, 'base64').toString('utf8') : undefined
    return { credential, identity: resolveIdentity(credential, clientId) }
  }

  const channelFor = async (c: Context, operation: Operation) => {
    const name = assertChannelName(c.req.param('channel'))
    const { credential } = await caller(c)
    assertPermitted(credential.capability, name, operation)
    return name
  }

  /**
   * Validates, stamps and publishes messages on one channel as `identity`. A message carrying a realtime
   * `connectionKey` is published on behalf of that connection, as on Ably: its connectionId (so `echo=false`
   * applies) and, unless the message names one, its clientId.
   */
  const publishTo = (channel: string, credential: Credential, identity: Identity, messages: InboundMessage[]) => {
    assertPermitted(credential.capability, channel, 'publish')
    const base = randomId(9)
    const prepared = messages.map(({ connectionKey, ...message }, index) => {
      const behalf = connectionKey === undefined ? undefined : realtime.connection(connectionKey)
      if (connectionKey !== undefined && !behalf) throw new HubError(40006, 'Invalid connectionKey: no such connection', 400)
      const clientId = effectiveClientId(identity, message.clientId) ?? behalf?.clientId
      return { message: { ...message, id: message.id ?? `${base}:${index}`, clientId }, connectionId: behalf?.id }
    })
    const serials: (string | null)[] = []
    // Each run of messages from one connection is one publish, so serials keep the order of the request.
    for (let start = 0, end = 1; start < prepared.length; start = end, end = start + 1) {
      const connectionId = prepared[start]?.connectionId
      while (end < prepared.length && prepared[end]?.connectionId === connectionId) end++
      const run = prepared.slice(start, end).map((item) => item.message)
      serials.push(...realtime.publish(channel, run, connectionId).serials)
    }
    return { channel, messageId: prepared[0]?.message.id, serials }
  }

  const parsePublish = (body: unknown) => {
    const messages = parseMessages(body)
    assertPublishSize(messages, maxMessageSize)
    return messages
  }

  const members = (channel: string, format: Format, clientId?: string, connectionId?: string) =>
    store
      .members(channel)
      .filter((member) => (clientId === undefined || member.clientId === clientId) && (connectionId === undefined || member.connectionId === connectionId))
      .map((member) => presenceToWire(member, format, PresenceAction.PRESENT))

  /** A history endpoint: one page of items with Ably's `Link` header (relative to `segment`). */
  const pagedHistory =
    <T>(segment: string, read: (channel: string, query: HistoryQuery) => HistoryPage<T>, toWire: (item: T, format: Format) => unknown) =>
    async (c: Context) => {
      const channel = await channelFor(c, 'history')
      const query = historyQuery(new URL(c.req.url).searchParams)
      const page = read(channel, query)
      const format = formatOf(c)
      return reply(
        c,
        page.items.map((item) => toWire(item, format)),
        200,
        { link: linkHeader(segment, query, page) },
      )
    }

  const app = new Hono()

  app.use(
    cors({
      origin: '*',
      allowMethods: ['GET', 'POST', 'OPTIONS'],
      exposeHeaders: ['Link', 'X-Ably-ErrorCode', 'X-Ably-ErrorMessage'],
      maxAge: 86_400,
    }),
  )
  app.use(readBodyFirst(maxBodySize))

  app.get('/time', (c) => reply(c, [now()]))

  app.get('/stats', async (c) => {
    await caller(c)
    return reply(c, [])
  })

  app.post('/keys/:keyName/requestToken', async (c) => {
    const keyName = c.req.param('keyName')
    const authorization = c.req.header('authorization')
    const requester = authorization ? await authority.authenticateHeader(authorization).catch(() => undefined) : undefined
    const details = await authority.requestToken(keyName, await readBody(c), requester)
    log({ event: 'hub.token.issued', keyName, clientId: details.clientId })
    return reply(c, details)
  })

  const revokeTokens = createRevokeTokens({ authority, realtime, log })
  app.post('/keys/:keyName/revokeTokens', async (c) => {
    const credential = await authority.authenticateHeader(c.req.header('authorization') ?? null)
    return reply(c, revokeTokens(c.req.param('keyName'), await readBody(c), credential))
  })

  app.get('/channels/:channel', async (c) => {
    const channel = await channelFor(c, 'channel-metadata')
    const metrics = realtime.occupancy(channel)
    const isActive = metrics.connections > 0 || metrics.presenceMembers > 0
    return reply(c, { channelId: channel, name: channel, status: { isActive, occupancy: { metrics } } })
  })

  app.get(
    '/channels/:channel/messages',
    pagedHistory('messages', (channel, query) => store.history(channel, query), messageToWire),
  )

  app.post('/channels/:channel/messages', async (c) => {
    const channel = assertChannelName(c.req.param('channel'))
    const { credential, identity } = await caller(c)
    return reply(c, publishTo(channel, credential, identity, parsePublish(await readBody(c))), 201)
  })

  app.get('/channels/:channel/messages/:serial', async (c) => {
    const channel = await channelFor(c, 'history')
    const found = store.message(channel, c.req.param('serial'))
    if (!found) throw new HubError(40400, 'Message not found', 404)
    return reply(c, messageToWire(found, formatOf(c)))
  })

  // One page of the members, in the order they entered, with Ably's `Link` header to the next.
  app.get('/channels/:channel/presence', async (c) => {
    const channel = await channelFor(c, 'subscribe')
    const query = presenceQuery(new URL(c.req.url).searchParams)
    const all = members(channel, formatOf(c), query.clientId, query.connectionId)
    return reply(c, all.slice(query.offset, query.offset + query.limit), 200, { link: presenceLinkHeader(query, all.length) })
  })

  app.get(
    '/channels/:channel/presence/history',
    pagedHistory(
      'history',
      (channel, query) => store.presenceHistory(channel, query),
      (event, format) => presenceToWire(event, format),
    ),
  )

  app.post('/messages', async (c) => {
    const { credential, identity } = await caller(c)
    const body = await readBody(c)
    const specs = asList(body)
    const count = specs.reduce<number>((total, spec) => total + asList((spec as { channels?: unknown })?.channels).length, 0)
    if (count > MAX_BATCH_CHANNELS) throw new HubError(90010, `At most ${MAX_BATCH_CHANNELS} channels per batch`, 400)
    const results = specs.map((spec) => {
      if (typeof spec !== 'object' || spec === null) throw new HubError(40000, 'Batch specs must be objects', 400)
      const { channels, messages } = spec as { channels?: unknown; messages?: unknown }
      const parsed = parsePublish(messages)
      return batch(asList(channels), (channel) => publishTo(channel, credential, identity, parsed))
    })
    // A single spec (not a list, as curl users send it) is answered as Ably does: one result per channel.
    return reply(c, Array.isArray(body) ? results : results[0]?.results, 201)
  })

  app.get('/presence', async (c) => {
    const { credential } = await caller(c)
    const channels = (c.req.query('channels') ?? '').split(',').filter(Boolean)
    if (channels.length > MAX_BATCH_CHANNELS) throw new HubError(90010, `At most ${MAX_BATCH_CHANNELS} channels per batch`, 400)
    const format = formatOf(c)
    return reply(
      c,
      batch(channels, (channel) => {
        assertPermitted(credential.capability, channel, 'subscribe')
        return { channel, presence: members(channel, format) }
      }),
    )
  })

  // ably-js falls back to long-polling (comet) where a browser cannot open a WebSocket; the hub serves only
  // WebSocket, so the fallback fails at once (40400 is final for ably-js) with a message that says why.
  app.all('/comet/*', () => {
    throw new HubError(40400, 'The local hub serves only the WebSocket transport; long-polling (comet) is not available', 404)
  })

  const fail = (c: Context, error: unknown) => {
    const hubError = asHubError(error)
    if (hubError.code === 50000) log({ event: 'hub.internal_error', message: String(error) })
    log({ event: 'hub.rest.error', method: c.req.method, path: c.req.path, code: hubError.code })
    return renderError(c, hubError)
  }
  app.notFound((c) => fail(c, new HubError(40400, 'Not found', 404)))
  app.onError((error, c) => fail(c, error))

  return app
}
