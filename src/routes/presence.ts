/** `GET /api/ably/presence?userIds=a,b,…`: who is online, for admin roles only, from Ably's REST presence. */
import { Hono } from 'hono/tiny'
import type { RouteFactory } from '../app-env.ts'
import type { AppEnv } from '../app-env.ts'
import { isAdmin } from '../auth/admin.ts'
import { invalidToken } from '../auth/app-token.ts'
import type { PresenceResponse } from '../contract/index.ts'
import { AppError } from '../errors/index.ts'
import { methodNotAllowed } from '../middleware/allow-methods/index.ts'
import { authenticate } from '../middleware/authenticate/index.ts'
import { presenceOf } from '../presence/index.ts'

/** The most user ids one request may ask about (five Ably batch requests). */
const MAX_PRESENCE_USER_IDS = 500

export const presenceRoutes: RouteFactory = ({ ably, config, verify, now }) =>
  new Hono<AppEnv>()
    .get('/presence', authenticate({ verify }), async (c) => {
      const caller = c.get('caller')
      if (!caller) throw invalidToken('no caller')
      if (!isAdmin(caller, config.adminRoles)) throw new AppError('forbidden', { message: 'Presence is for admin roles only.' })
      const userIds = (c.req.query('userIds') ?? '').split(',').filter((id) => id !== '')
      if (userIds.length === 0 || userIds.length > MAX_PRESENCE_USER_IDS) {
        throw new AppError('invalid_request', {
          message: `Pass 1 to ${MAX_PRESENCE_USER_IDS} user ids as userIds=a,b,c.`,
          details: { maxUserIds: MAX_PRESENCE_USER_IDS },
        })
      }
      const users = await presenceOf(ably, userIds, { signal: c.req.raw.signal })
      const body: PresenceResponse = { users, timestamp: new Date(now()).toISOString() }
      c.header('Cache-Control', 'no-store')
      return c.json(body)
    })
    .all('/presence', methodNotAllowed(['GET']))
