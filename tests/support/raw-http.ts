/**
 * HTTP/1.1 over a raw loopback socket, for tests about connections: what a server does with keep-alive, slow or
 * abandoned requests is invisible through fetch. Also used by scripts/fuzz.ts.
 */
import { connect, type Socket } from 'node:net'

export interface RawResponse {
  status: number
  /** Header names in lower case. */
  headers: Record<string, string>
  body: string
}

export interface RawConnection {
  /** Writes bytes as they are (headers and body are the caller's business). */
  write(data: string | Uint8Array): void
  /** The next response on this connection, or `closed` when the server closed it first; rejects after `timeoutMs`. */
  response(timeoutMs?: number): Promise<RawResponse | 'closed'>
  /** True once the server has closed (or reset) the connection. */
  readonly closed: boolean
  /** When the server closed it (performance.now()), if it did. */
  readonly closedAt: number | undefined
  destroy(): void
}

export function rawConnection(port: number, host = '127.0.0.1'): Promise<RawConnection> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(port, host)
    let buffer = Buffer.alloc(0)
    let closedAt: number | undefined
    let wake: (() => void) | undefined
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk])
      wake?.()
    })
    const onClose = () => {
      closedAt ??= performance.now()
      wake?.()
    }
    socket.on('close', onClose)
    socket.on('end', onClose)
    socket.on('error', onClose)
    socket.once('connect', () => {
      resolve({
        write: (data) => void (closedAt === undefined && socket.write(data)),
        get closed() {
          return closedAt !== undefined
        },
        get closedAt() {
          return closedAt
        },
        destroy: () => socket.destroy(),
        async response(timeoutMs = 5000) {
          const until = performance.now() + timeoutMs
          for (;;) {
            const parsed = parseResponse(buffer)
            if (parsed) {
              buffer = buffer.subarray(parsed.length)
              return parsed.response
            }
            if (closedAt !== undefined) return 'closed'
            const left = until - performance.now()
            if (left <= 0) throw new Error(`no response within ${timeoutMs} ms`)
            await new Promise<void>((done) => {
              const timer = setTimeout(done, left)
              wake = () => {
                clearTimeout(timer)
                wake = undefined
                done()
              }
            })
          }
        },
      })
    })
    socket.once('error', reject)
  })
}

/** One response from the front of `buffer` (Content-Length or chunked bodies), or undefined if it is not all there. */
function parseResponse(buffer: Buffer): { response: RawResponse; length: number } | undefined {
  const end = buffer.indexOf('\r\n\r\n')
  if (end < 0) return undefined
  const [statusLine = '', ...lines] = buffer.subarray(0, end).toString('latin1').split('\r\n')
  const headers: Record<string, string> = {}
  for (const line of lines) {
    const colon = line.indexOf(':')
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
  }
  const status = Number(statusLine.split(' ')[1])
  let offset = end + 4
  if (headers['transfer-encoding']?.includes('chunked')) {
    const parts: Buffer[] = []
    for (;;) {
      const lineEnd = buffer.indexOf('\r\n', offset)
      if (lineEnd < 0) return undefined
      const size = Number.parseInt(buffer.subarray(offset, lineEnd).toString('latin1'), 16)
      if (buffer.length < lineEnd + 2 + size + 2) return undefined
      parts.push(buffer.subarray(lineEnd + 2, lineEnd + 2 + size))
      offset = lineEnd + 2 + size + 2
      if (size === 0) return { response: { status, headers, body: Buffer.concat(parts).toString('utf8') }, length: offset }
    }
  }
  const size = Number(headers['content-length'] ?? 0)
  if (buffer.length < offset + size) return undefined
  return { response: { status, headers, body: buffer.subarray(offset, offset + size).toString('utf8') }, length: offset + size }
}

/** A request's bytes: the request line, the headers (Host and Content-Length added), then the body. */
export function rawRequest(method: string, path: string, headers: Record<string, string> = {}, body = ''): string {
  const all = { Host: 'localhost', ...(body !== '' || method === 'POST' ? { 'Content-Length': String(Buffer.byteLength(body)) } : {}), ...headers }
  return `${method} ${path} HTTP/1.1\r\n${Object.entries(all)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('')}\r\n${body}`
}
