/**
 * Reads the request body before the route runs, so that every way a body can go wrong has its own truthful answer:
 * over the cap is 413 `payload_too_large`, not arrived within its time budget is 408 `request_timeout`, and a client
 * that goes away mid-body is a 400 (nobody reads it; it is a client's doing, so it is logged as a warning, never as an
 * error). The clock of the request's deadline stops while the body arrives and restarts in full once it is in:
 * receiving a body and doing the work (e.g. storing it) are separate budgets.
 *
 * A body whose honest Content-Length is over the cap by at most {@link DISCARD_BYTES} is read to its end and dropped
 * before the 413, so the connection stays usable and the client, still sending, reads its answer instead of a
 * reset. A body without a length is cut as soon as it passes the cap. Any answer given
 * before the body was read to its end says `Connection: close`: the bytes still on their way would otherwise be read
 * as the next request, or the connection dropped under it.
 */
import type { MiddlewareHandler } from 'hono'
import type { AppEnv } from '../../app-env.ts'
import { AppError } from '../../errors/index.ts'
import { headersSayNoBody } from './no-body.ts'

/** How long a body may take to arrive once its headers are in. */
export const BODY_TIMEOUT_MS = 10_000
/** How far past the cap a declared body is still read (and dropped) for a 413 on a connection that stays open. */
export const DISCARD_BYTES = 1024 * 1024

export interface BodyLimitOptions {
  /** The body's own time budget, in ms (default {@link BODY_TIMEOUT_MS}). */
  timeoutMs?: number
}

/** The header every answer carries when the request's body was not read to its end. */
const CONNECTION_CLOSE = { Connection: 'close' } as const

/**
 * Caps the body at `maxBytes` (by an honest Content-Length before reading anything, by counting otherwise) and
 * reads it within `timeoutMs`. The route then reads it as usual (`c.req.arrayBuffer()`, `json()`…), from memory.
 */
export function bodyLimit(maxBytes: number, { timeoutMs = BODY_TIMEOUT_MS }: BodyLimitOptions = {}): MiddlewareHandler<AppEnv> {
  return async function bodyLimit(c, next) {
    if (headersSayNoBody(c)) return next()
    const length = c.req.header('content-length')
    // How much is read before giving up on the connection: the cap, or an honest length a little over it.
    let readUpTo = maxBytes
    if (c.req.header('transfer-encoding') === undefined && length !== undefined) {
      const declared = Number(length)
      if (declared > maxBytes + DISCARD_BYTES) throw tooLarge(maxBytes, CONNECTION_CLOSE)
      if (declared > maxBytes) readUpTo = declared
    }
    const stream = c.req.raw.body
    if (!stream) return next()
    const resume = c.get('suspendDeadline')?.()
    const body = await readBody(stream, maxBytes, readUpTo, timeoutMs)
    resume?.()
    ;(c.req.bodyCache as { arrayBuffer?: Promise<ArrayBuffer> }).arrayBuffer = Promise.resolve(body)
    return next()
  }
}

function tooLarge(maxBytes: number, headers: Record<string, string> = {}): AppError {
  return new AppError('payload_too_large', { message: `The request body is larger than ${maxBytes} bytes.`, headers })
}

async function readBody(stream: ReadableStream<Uint8Array>, maxBytes: number, readUpTo: number, timeoutMs: number): Promise<ArrayBuffer> {
  const reader = stream.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new AppError('request_timeout', {
            message: `The request body did not arrive within ${timeoutMs / 1000} s.`,
            reason: `body not in after ${timeoutMs} ms`,
            headers: CONNECTION_CLOSE,
          }),
        ),
      timeoutMs,
    )
  })
  try {
    for (;;) {
      const { done, value } = await Promise.race([reader.read(), timeout]).catch((error: unknown) => {
        if (error instanceof AppError) throw error
        throw new AppError('invalid_request', {
          message: 'The request body was not received in full.',
          cause: error,
          reason: 'client went away mid-body',
          headers: CONNECTION_CLOSE,
        })
      })
      if (done) break
      size += value.byteLength
      if (size > readUpTo) throw tooLarge(maxBytes, CONNECTION_CLOSE)
      if (size <= maxBytes) chunks.push(value)
    }
    // Read to its end, so the connection can carry the next request.
    if (size > maxBytes) throw tooLarge(maxBytes)
  } catch (error) {
    reader.cancel().catch(() => {})
    throw error
  } finally {
    clearTimeout(timer)
  }
  const body = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    body.set(chunk, offset)
    offset += chunk.byteLength
  }
  return body.buffer
}
