/** Caps the request body (by Content-Length when honest, by counting the stream otherwise) with a 413. */
import type { MiddlewareHandler } from 'hono'
import { bodyLimit as honoBodyLimit } from 'hono/body-limit'
import { AppError } from '../../errors/index.ts'

export function bodyLimit(maxBytes: number): MiddlewareHandler {
  return honoBodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new AppError('payload_too_large', `The request body is larger than ${maxBytes} bytes.`)
    },
  })
}
