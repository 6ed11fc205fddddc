/**
 * The hub's REST body reading, as the API's: the body is read before the route, within the size cap (413, 40009) and
 * the same time budget once its headers are in ({@link BODY_TIMEOUT_MS}; else 408). A client that goes away mid-body
 * is its own doing: a 400 (40000), never a server error. Any answer given before the body was read to its end says
 * `Connection: close`, so the bytes still on their way are never read as the next request.
 */
import type { Context, MiddlewareHandler } from 'hono'
import { BODY_TIMEOUT_MS } from '../../middleware/body-limit/index.ts'
import { HubError } from '../errors.ts'

export function readBodyFirst(maxBodySize: number, timeoutMs = BODY_TIMEOUT_MS): MiddlewareHandler {
  return async (c, next) => {
    const stream = c.req.raw.body
    if (!stream) return next()
    const length = c.req.header('content-length')
    if (length !== undefined && c.req.header('transfer-encoding') === undefined && Number(length) > maxBodySize) throw unread(c, tooLarge())
    const reader = stream.getReader()
    const chunks: Uint8Array[] = []
    let size = 0
    let timer: ReturnType<typeof setTimeout> | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new HubError(40000, `Request body not received within ${timeoutMs / 1000} s`, 408)), timeoutMs)
    })
    try {
      for (;;) {
        const { done, value } = await Promise.race([reader.read(), timeout]).catch((error: unknown) => {
          throw error instanceof HubError ? error : new HubError(40000, 'Request body not received in full', 400, { cause: error })
        })
        if (done) break
        size += value.byteLength
        if (size > maxBodySize) throw tooLarge()
        chunks.push(value)
      }
    } catch (error) {
      reader.cancel().catch(() => {})
      throw unread(c, error)
    } finally {
      clearTimeout(timer)
    }
    c.req.raw = new Request(c.req.raw, { body: Buffer.concat(chunks, size) })
    return next()
  }
}

const tooLarge = () => new HubError(40009, 'Request body too large', 413)

function unread(c: Context, error: unknown): unknown {
  c.header('connection', 'close')
  return error
}
