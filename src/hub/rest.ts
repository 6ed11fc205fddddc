/**
 * The REST side of the hub as a web-standard handler: publish, history, channel status, presence,
 * batch publish and presence, time, stats and requestToken, in JSON or MessagePack per `Accept`,
 * with errors in Ably's exact shape.
 */
import { effectiveClientId, resolveIdentity, type Authority, type Credential, type Identity } from './auth.ts'
import { assertPermitted, type Operation } from './capability.ts'
import type { ChannelStore, HistoryQuery, HistoryPage } from './channels.ts'
import { CONTENT_TYPES, decode, encode, formatFromMediaType, type Format } from './codec.ts'
import { asHubError, HubError, toErrorInfo } from './errors.ts'
import {
  assertChannelName,
  assertPublishSize,
  messageToWire,
  parseMessages,
  presenceToWire,
  type InboundMessage,
} from './messages.ts'
import { PresenceAction } from './protocol.ts'
import type { LogLine, Realtime } from './realtime.ts'

export interface RestOptions {
  authority: Authority
  store: ChannelStore
  realtime: Pick<Realtime, 'publish' | 'occupancy'>
  now: () => number
  log: LogLine
  randomId: (bytes: number) => string
  maxMessageSize: number
  maxBodySize: number
}

interface Reply {
  status?: number
  body: unknown
  headers?: Record<string, string>
}

interface Context {
  request: Request
  url: URL
  format: Format
  segments: string[]
  /** The authenticated caller; resolved lazily so `/time` and requestToken need none. */
  caller: () => Promise<{ credential: Credential; identity: Identity }>
  body: () => Promise<unknown>
}

type Handler = (context: Context) => Promise<Reply> | Reply

const MAX_BATCH_CHANNELS = 100
const DEFAULT_LIMIT = 100
const MAX_LIMIT = 1000
const CORS_HEADERS = {
  'access-control-allow-origin': '*',
  'access-control-expose-headers': 'Link, X-Ably-ErrorCode, X-Ably-ErrorMessage',
}

async function readBody(request: Request, maxBytes: number): Promise<Uint8Array> {
  const tooLarge = () => new HubError(40009, 'Request body too large', 413)
  if (Number(request.headers.get('content-length') ?? 0) > maxBytes) throw tooLarge()
  if (!request.body) return new Uint8Array()
  const chunks: Uint8Array[] = []
  let size = 0
  const reader = request.body.getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > maxBytes) {
      await reader.cancel()
      throw tooLarge()
    }
    chunks.push(value)
  }
  return Buffer.concat(chunks)
}

function integerParam(params: URLSearchParams, name: string): number | undefined {
  const value = params.get(name)
  if (value === null || value === '') return undefined
  const number = Number(value)
  if (!Number.isSafeInteger(number)) throw new HubError(40000, `Parameter "${name}" must be an integer`, 400)
  return number
}

function historyQuery(params: URLSearchParams): HistoryQuery {
  const limit = integerParam(params, 'limit') ?? DEFAULT_LIMIT
  if (limit < 1 || limit > MAX_LIMIT) throw new HubError(40000, `Parameter "limit" must be 1 to ${MAX_LIMIT}`, 400)
  const direction = params.get('direction') ?? 'backwards'
  if (direction !== 'backwards' && direction !== 'forwards') {
    throw new HubError(40000, 'Parameter "direction" must be forwards or backwards', 400)
  }
  return {
    limit,
    direction,
    start: integerParam(params, 'start'),
    end: integerParam(params, 'end'),
    untilSerial: params.get('from_serial') ?? undefined,
    cursor: params.get('cursor') ?? undefined,
  }
}

/** Ably's `Link` header: relative `./<segment>?…` links that repeat every query parameter. */
function linkHeader(segment: string, query: HistoryQuery, next: string | undefined): string {
  const base: [string, string | number | undefined][] = [
    ['limit', query.limit],
    ['direction', query.direction],
    ['start', query.start],
    ['end', query.end],
    ['from_serial', query.untilSerial],
  ]
  const link = (cursor: string | undefined, rel: string) => {
    const pairs = [...base, ['cursor', cursor] as const].filter(([, value]) => value !== undefined)
    const search = pairs.map(([name, value]) => `${name}=${encodeURIComponent(String(value))}`).join('&')
    return `<./${segment}?${search}>; rel="${rel}"`
  }
  const links = [link(undefined, 'first'), link(query.cursor, 'current')]
  if (next !== undefined) links.push(link(next, 'next'))
  return links.join(', ')
}

function paged<T>(context: Context, query: HistoryQuery, result: HistoryPage<T>, toWire: (item: T) => unknown): Reply {
  return {
    body: result.items.map(toWire),
    headers: { link: linkHeader(context.segments.at(-1) ?? 'messages', query, result.next) },
  }
}


function asList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [value]
}

/** Builds the handler. */
export function createRestHandler({
  authority,
  store,
  realtime,
  now,
  log,
  randomId,
  maxMessageSize,
  maxBodySize,
}: RestOptions): (request: Request) => Promise<Response> {
  const channelFor = async (context: Context, operation: Operation) => {
    const name = assertChannelName(context.segments[1])
    const { credential } = await context.caller()
    assertPermitted(credential.capability, name, operation)
    return name
  }

  /** Validates, stamps and publishes messages on one channel as `identity`. */
  const publishTo = (channel: string, credential: Credential, identity: Identity, messages: InboundMessage[]) => {
    assertPermitted(credential.capability, channel, 'publish')
    const base = randomId(9)
    const prepared = messages.map((message, index) => ({
      ...message,
      id: message.id ?? `${base}:${index}`,
      clientId: effectiveClientId(identity, message.clientId),
    }))
    const { serials } = realtime.publish(channel, prepared)
    return { channel, messageId: prepared[0]?.id, serials }
  }

  const parsePublish = (body: unknown) => {
    const messages = parseMessages(body)
    assertPublishSize(messages, maxMessageSize)
    return messages
  }

  const publish: Handler = async (context) => {
    const channel = assertChannelName(context.segments[1])
    const { credential, identity } = await context.caller()
    return { status: 201, body: publishTo(channel, credential, identity, parsePublish(await context.body())) }
  }

  const history: Handler = async (context) => {
    const channel = await channelFor(context, 'history')
    const query = historyQuery(context.url.searchParams)
    return paged(context, query, store.history(channel, query), (message) => messageToWire(message, context.format))
  }

  const presenceHistory: Handler = async (context) => {
    const channel = await channelFor(context, 'history')
    const query = historyQuery(context.url.searchParams)
    return paged(context, query, store.presenceHistory(channel, query), (event) =>
      presenceToWire(event, context.format),
    )
  }

  const message: Handler = async (context) => {
    const channel = await channelFor(context, 'history')
    const found = store.message(channel, context.segments[3] ?? '')
    if (!found) throw new HubError(40400, 'Message not found', 404)
    return { body: messageToWire(found, context.format) }
  }

  const members = (channel: string, format: Format, params: URLSearchParams) => {
    const clientId = params.get('clientId')
    const connectionId = params.get('connectionId')
    return store
      .members(channel)
      .filter((member) => (clientId === null || member.clientId === clientId) &&
        (connectionId === null || member.connectionId === connectionId))
      .map((member) => presenceToWire(member, format, PresenceAction.PRESENT))
  }

  const presence: Handler = async (context) => {
    const channel = await channelFor(context, 'subscribe')
    return { body: members(channel, context.format, context.url.searchParams) }
  }

  const status: Handler = async (context) => {
    const channel = await channelFor(context, 'channel-metadata')
    const metrics = realtime.occupancy(channel)
    return {
      body: {
        channelId: channel,
        name: channel,
        status: { isActive: metrics.connections > 0 || metrics.presenceMembers > 0, occupancy: { metrics } },
      },
    }
  }

  /** Runs `run` for each channel and reports per-channel success or error, as Ably's batch endpoints do. */
  const batch = <T extends object>(channels: unknown[], run: (channel: string) => T) => {
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

  const batchPublish: Handler = async (context) => {
    const { credential, identity } = await context.caller()
    const specs = asList(await context.body())
    const count = specs.reduce<number>((total, spec) => total + asList((spec as { channels?: unknown })?.channels).length, 0)
    if (count > MAX_BATCH_CHANNELS) throw new HubError(90010, `At most ${MAX_BATCH_CHANNELS} channels per batch`, 400)
    const results = []
    for (const spec of specs) {
      if (typeof spec !== 'object' || spec === null) throw new HubError(40000, 'Batch specs must be objects', 400)
      const { channels, messages } = spec as { channels?: unknown; messages?: unknown }
      const parsed = parsePublish(messages)
      results.push(batch(asList(channels), (channel) => publishTo(channel, credential, identity, parsed)))
    }
    return { status: 201, body: results }
  }

  const batchPresence: Handler = async (context) => {
    const { credential } = await context.caller()
    const channels = (context.url.searchParams.get('channels') ?? '').split(',').filter(Boolean)
    if (channels.length > MAX_BATCH_CHANNELS) throw new HubError(90010, `At most ${MAX_BATCH_CHANNELS} channels per batch`, 400)
    return {
      body: batch(channels, (channel) => {
        assertPermitted(credential.capability, channel, 'subscribe')
        return { channel, presence: members(channel, context.format, new URLSearchParams()) }
      }),
    }
  }

  const requestToken: Handler = async (context) => {
    const keyName = context.segments[1] ?? ''
    const authorization = context.request.headers.get('authorization')
    const caller = authorization ? await authority.authenticateHeader(authorization).catch(() => undefined) : undefined
    const details = await authority.requestToken(keyName, await context.body(), caller)
    log({ event: 'hub.token.issued', keyName, clientId: details.clientId })
    return { body: details }
  }

  const routes: { pattern: string[]; methods: Record<string, Handler> }[] = [
    { pattern: ['time'], methods: { GET: () => ({ body: [now()] }) } },
    { pattern: ['stats'], methods: { GET: async (context) => (await context.caller(), { body: [] }) } },
    { pattern: ['messages'], methods: { POST: batchPublish } },
    { pattern: ['presence'], methods: { GET: batchPresence } },
    { pattern: ['keys', '*', 'requestToken'], methods: { POST: requestToken } },
    { pattern: ['channels', '*'], methods: { GET: status } },
    { pattern: ['channels', '*', 'messages'], methods: { GET: history, POST: publish } },
    { pattern: ['channels', '*', 'messages', '*'], methods: { GET: message } },
    { pattern: ['channels', '*', 'presence'], methods: { GET: presence } },
    { pattern: ['channels', '*', 'presence', 'history'], methods: { GET: presenceHistory } },
  ]

  const route = (segments: string[], method: string): Handler => {
    const found = routes.find(
      ({ pattern }) =>
        pattern.length === segments.length && pattern.every((part, index) => part === '*' || part === segments[index]),
    )
    if (!found) throw new HubError(40400, 'Not found', 404)
    const handler = found.methods[method]
    if (!handler) throw new HubError(40500, 'Method not allowed', 405)
    return handler
  }

  const render = (reply: Reply, format: Format): Response =>
    new Response(encode(reply.body, format), {
      status: reply.status ?? 200,
      headers: { ...CORS_HEADERS, 'content-type': CONTENT_TYPES[format], ...reply.headers },
    })

  const renderError = (error: HubError, format: Format): Response =>
    render(
      {
        status: error.statusCode,
        body: { error: toErrorInfo(error) },
        headers: {
          'x-ably-errorcode': String(error.code),
          'x-ably-errormessage': error.message.replace(/[^\x20-\x7e]/g, '?'),
        },
      },
      format,
    )

  return async (request) => {
    const url = new URL(request.url)
    const format = formatFromMediaType(request.headers.get('accept'))
    if (request.method === 'OPTIONS') {
      return new Response(null, {
        status: 204,
        headers: {
          ...CORS_HEADERS,
          'access-control-allow-methods': 'GET, POST, OPTIONS',
          'access-control-allow-headers': request.headers.get('access-control-request-headers') ?? '',
          'access-control-max-age': '86400',
        },
      })
    }
    try {
      const segments = url.pathname.split('/').slice(1).map((segment) => {
        try {
          return decodeURIComponent(segment)
        } catch {
          throw new HubError(40400, 'Not found', 404)
        }
      })
      const handler = route(segments, request.method)
      let caller: Promise<{ credential: Credential; identity: Identity }> | undefined
      const context: Context = {
        request,
        url,
        format,
        segments,
        caller: () =>
          (caller ??= (async () => {
            const credential = await authority.authenticateHeader(request.headers.get('authorization'))
            const header = request.headers.get('x-ably-clientid')
            const clientId = header ? Buffer.from(header, 'base64').toString('utf8') : undefined
            return { credential, identity: resolveIdentity(credential, clientId) }
          })()),
        body: async () => {
          const bytes = await readBody(request, maxBodySize)
          return decode(bytes, formatFromMediaType(request.headers.get('content-type')))
        },
      }
      return render(await handler(context), format)
    } catch (error) {
      const hubError = asHubError(error)
      if (hubError.code === 50000) log({ event: 'hub.internal_error', message: String(error) })
      log({ event: 'hub.rest.error', method: request.method, path: url.pathname, code: hubError.code })
      return renderError(hubError, format)
    }
  }
}
