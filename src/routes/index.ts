/** The edge routes, for hosts that serve both (Deno, Workers, Node). Netlify's edge functions import one each. */
import type { RouteFactory } from '../app-env.ts'
import { presenceRoutes } from './presence.ts'
import { statsRoutes } from './stats.ts'
import { tokenRoutes } from './token.ts'

export { presenceRoutes, statsRoutes, tokenRoutes }

export const edgeRoutes: readonly RouteFactory[] = [tokenRoutes, statsRoutes, presenceRoutes]
