/** Ours: the token edge function's app, built the way `netlify/edge-functions/ably-token.ts` builds it. */
import { appFromEnv } from '../../../src/wiring/app-from-env.ts'
import { silentLogger } from '../../../src/log/index.ts'
import { tokenRoutes } from '../../../src/routes/token.ts'
import { BENCH_ENV, type FetchHandler } from '../fixtures.ts'

/** The app's `fetch`, with the request log discarded (no alternative writes one). */
export function oursHandler(env: Record<string, string> = BENCH_ENV): FetchHandler {
  return appFromEnv(env, { routes: [tokenRoutes], log: silentLogger }).fetch
}
