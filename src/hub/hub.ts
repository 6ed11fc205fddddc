/** The local Ably-compatible hub: one HTTP server carrying the REST API and the realtime WebSocket at `/`. */
import { randomBytes } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { getRequestListener } from '@hono/node-server'
import { WebSocketServer } from 'ws'
import { NODE_SERVER_OPTIONS } from '../node-listener/index.ts'
import { createAuthority, type HubKey } from './auth.ts'
import { createChannelStore } from './channels.ts'
import { DEFAULT_MAX_INBOUND_RATE, DEFAULT_PRESENCE_HISTORY_LIMIT, DEFAULT_PRESENCE_RETENTION_MS } from './limits.ts'
import { createRealtime, type LogLine } from './realtime/index.ts'
import { createRestApp } from './rest/app.ts'
import { createRevocationRegistry } from './revocation.ts'

export interface HubOptions {
  keys: HubKey[]
  /** Interface to listen on; loopback by default. */
  host?: string
  /** Port for `listen()` without an argument; 0 picks a free one. */
  port?: number
  /** Messages kept per channel (oldest dropped first). */
  historyLimit?: number
  /** How long messages stay in history. */
  retentionMs?: number
  /** Presence events kept per channel in presence history (oldest dropped first); 100 by default. */
  presenceHistoryLimit?: number
  /** How long presence events stay in presence history; Ably's 2 minutes by default. */
  presenceRetentionMs?: number
  /**
   * Messages and presence events one connection may send per second (Ably's default, 50). Over it they are
   * NACKed 42911; at 20 times it the connection is closed with 42921.
   */
  maxInboundRate?: number
  /** Largest publish (sum of its messages' name, clientId, extras and data), in bytes. */
  maxMessageSize?: number
  /** Largest WebSocket frame; larger frames close that socket. */
  maxFrameSize?: number
  /** How long a dropped connection can be resumed. */
  connectionStateTtlMs?: number
  /** Idle interval after which the hub sends a HEARTBEAT; 0 turns heartbeats off. */
  maxIdleIntervalMs?: number
  /** How long idempotent message ids are remembered. */
  idempotencyWindowMs?: number
  /** Channels held in memory at once; publishing to one more is refused with 90010. */
  maxChannels?: number
  /** How often heartbeats, token expiry and retention are checked. */
  sweepIntervalMs?: number
  now?: () => number
  /** Receives one JSON-able object per notable event; never secrets or tokens. */
  log?: LogLine
}

export interface Hub {
  /**
   * Starts serving; after `close()` it may be called again and keeps its state and, by default, its port.
   * Calls while a start is pending share it; a call for another port then, or once listening, is a TypeError.
   */
  listen(port?: number): Promise<{ port: number; url: string }>
  /**
   * Stops serving and drops every socket abruptly. Channels, history and connection state are kept.
   * During a pending `listen()` it lets the start finish, then stops.
   */
  close(): Promise<void>
  /** Drops every socket abruptly while still serving, as a network failure would. */
  dropConnections(): void
  /** The port while listening. */
  readonly port: number | undefined
}

const MAX_REST_BODY = 2 * 1024 * 1024

function positive(name: string, value: number, allowZero = false): number {
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new TypeError(`createHub: ${name} must be a ${allowZero ? 'non-negative' : 'positive'} number`)
  }
  return value
}

/** The request-target of an upgrade as a URL, or undefined when it does not parse (`GET http://[/`). */
function requestTarget(target = '/'): URL | undefined {
  try {
    return new URL(target, 'http://hub')
  } catch {
    return undefined
  }
}

/** Answers an upgrade with an HTTP error and closes the socket. */
function refuseUpgrade(socket: Duplex, status: string): void {
  // Node hands an upgraded socket over without an 'error' listener: a reset while this answer is
  // written would otherwise be an uncaught exception that ends the process.
  socket.on('error', () => socket.destroy())
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`, () => socket.destroy())
}

function withStandardBody(request: Request): Request {
  if (request.method === 'GET' || request.method === 'HEAD') return request
  const { url, method, headers, body, signal } = request
  return new Request(url, { method, headers, body, signal, duplex: 'half' } as RequestInit)
}

/** Creates a hub; nothing listens until `listen()`. */
export function createHub({
  keys,
  host = '127.0.0.1',
  port: defaultPort = 0,
  historyLimit = 1000,
  retentionMs = 86_400_000,
  presenceHistoryLimit = DEFAULT_PRESENCE_HISTORY_LIMIT,
  presenceRetentionMs = DEFAULT_PRESENCE_RETENTION_MS,
  maxInboundRate = DEFAULT_MAX_INBOUND_RATE,
  maxMessageSize = 65_536,
  maxFrameSize = 524_288,
  connectionStateTtlMs = 120_000,
  maxIdleIntervalMs = 15_000,
  idempotencyWindowMs = 120_000,
  maxChannels = 10_000,
  sweepIntervalMs = 1000,
  now = Date.now,
  log = () => {},
}: HubOptions): Hub {
  positive('historyLimit', historyLimit)
  positive('retentionMs', retentionMs)
  positive('presenceHistoryLimit', presenceHistoryLimit)
  positive('presenceRetentionMs', presenceRetentionMs)
  positive('maxInboundRate', maxInboundRate)
  positive('maxMessageSize', maxMessageSize)
  positive('maxFrameSize', maxFrameSize)
  positive('connectionStateTtlMs', connectionStateTtlMs)
  positive('maxIdleIntervalMs', maxIdleIntervalMs, true)
  positive('idempotencyWindowMs', idempotencyWindowMs)
  positive('maxChannels', maxChannels)
  positive('sweepIntervalMs', sweepIntervalMs)
  positive('port', defaultPort, true)

  const randomId = (bytes: number) => randomBytes(bytes).toString('base64url')
  const revocations = createRevocationRegistry({ now })
  const authority = createAuthority({ keys, now, revocations })
  const store = createChannelStore({
    now,
    historyLimit,
    retentionMs,
    presenceHistoryLimit,
    presenceRetentionMs,
    idempotencyWindowMs,
    maxChannels,
  })
  const shared = { authority, store, now, log, randomId, maxMessageSize }
  const realtime = createRealtime({ ...shared, maxInboundRate, maxFrameSize, connectionStateTtlMs, maxIdleIntervalMs })
  const rest = createRestApp({ ...shared, realtime, maxBodySize: MAX_REST_BODY })
  // The hub leaves the process's global Request alone (it runs inside test processes and apps), so
  // @hono/node-server hands over its own light Request, which undici cannot copy: a request with a body is
  // rebuilt as a standard one, or the body limit's copy of a streamed (chunked) body would fail.
  const requestListener = getRequestListener((request) => rest.fetch(withStandardBody(request)), {
    overrideGlobalObjects: false,
  })

  let server: Server | undefined
  let sockets: WebSocketServer | undefined
  let sweeper: NodeJS.Timeout | undefined
  let boundPort: number | undefined
  let lastPort = defaultPort
  let starting: { port: number; address: ReturnType<Hub['listen']> } | undefined

  const start = async (port: number) => {
    const wss = new WebSocketServer({ noServer: true, maxPayload: maxFrameSize, perMessageDeflate: false })
    const http = createServer(NODE_SERVER_OPTIONS, requestListener)
    http.on('upgrade', (request, socket, head) => {
      const url = requestTarget(request.url)
      if (url?.pathname !== '/') {
        refuseUpgrade(socket, url ? '404 Not Found' : '400 Bad Request')
        return
      }
      try {
        wss.handleUpgrade(request, socket, head, (ws) => realtime.accept(ws, url, request.headers))
      } catch (error) {
        // Nothing a client sends should get here; if it does, it costs that socket, never the process.
        log({ event: 'hub.internal_error', message: String(error) })
        socket.destroy()
      }
    })
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject)
      http.listen(port, host, () => {
        http.off('error', reject)
        resolve()
      })
    })
    server = http
    sockets = wss
    boundPort = lastPort = (http.address() as AddressInfo).port
    sweeper = setInterval(() => {
      realtime.sweep()
      revocations.prune()
    }, sweepIntervalMs)
    sweeper.unref()
    const url = `http://${host.includes(':') ? `[${host}]` : host}:${boundPort}`
    log({ event: 'hub.listening', url })
    return { port: boundPort, url }
  }

  const listen = async (port?: number) => {
    if (starting) {
      if (port === undefined || port === starting.port) return starting.address
      throw new TypeError(`hub.listen: already starting on port ${starting.port}`)
    }
    if (server) throw new TypeError('hub.listen: already listening')
    const target = port ?? lastPort
    const address = start(target).finally(() => {
      starting = undefined
    })
    starting = { port: target, address }
    return address
  }

  const close = async () => {
    if (starting) await starting.address.catch(() => {})
    const http = server
    if (!http) return
    clearInterval(sweeper)
    realtime.dropAll()
    sockets?.close()
    server = sockets = boundPort = undefined
    http.closeAllConnections()
    await new Promise<void>((resolve) => http.close(() => resolve()))
    log({ event: 'hub.closed' })
  }

  return {
    listen,
    close,
    dropConnections: () => realtime.dropAll(),
    get port() {
      return boundPort
    },
  }
}
