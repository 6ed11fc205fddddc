/** The last handler on a path: any method the path does not serve gets 405 `method_not_allowed` with `Allow`. */
import type { Handler } from 'hono'
import { AppError } from '../../errors/index.ts'

export function methodNotAllowed(allowed: readonly string[]): Handler {
  const allow = [...allowed, 'OPTIONS'].join(', ')
  return () => {
    throw new AppError('method_not_allowed', { headers: { Allow: allow } })
  }
}
