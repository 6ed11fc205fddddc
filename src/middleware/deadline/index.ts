/** Answers 504 `deadline_exceeded` when a request runs longer than the deadline, below the platform's own limit. */
import type { MiddlewareHandler } from 'hono'
import { AppError } from '../../errors/index.ts'

export function deadline(ms: number): MiddlewareHandler {
  if (!Number.isFinite(ms) || ms <= 0) throw new TypeError(`deadline: ms must be a positive number, got ${ms}`)
  return async function deadline(_c, next) {
    let timer: ReturnType<typeof setTimeout> | undefined
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new AppError('deadline_exceeded', undefined, { reason: `over ${ms} ms` })), ms)
    })
    try {
      await Promise.race([next(), expired])
    } finally {
      clearTimeout(timer)
    }
  }
}
