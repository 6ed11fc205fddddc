/**
 * Netlify Edge Functions, ready to export: an edge entry file of a site is three lines.
 *
 *   import { tokenEdgeFunction, tokenEdgeConfig } from 'ably-netlify-integration/netlify-edge'
 *   export default tokenEdgeFunction
 *   export const config = tokenEdgeConfig
 *
 * Importing reads nothing: each function reads `Netlify.env` and checks it on its first request (see `lazyHandler`).
 * The edge bundler takes `config` by running the module, so it may come from here (Node functions may not: see
 * `./netlify-node`).
 *
 * Each export is marked pure, so a bundler keeps only the one an entry file imports (the token entry carries no
 * stats or presence route).
 */
import type { Env } from '../config/index.ts'
import { ABLY_PRESENCE, ABLY_STATS, ABLY_TOKEN, edgeFunctionConfig } from '../deploy/functions.ts'
import type { ChannelPolicy, CredentialPolicy } from '../policy/index.ts'
import { lazyNetlifyBlobsStore } from '../revocation/lazy.ts'
import { presenceRoutes, statsRoutes, tokenRoutes } from '../routes/index.ts'
import { apiHandler, lazyHandler } from './handlers.ts'

/** The `Netlify` global of the edge runtime, read at the first request only. */
const netlifyEnv = (): Env => (globalThis as unknown as { Netlify: { env: { toObject(): Env } } }).Netlify.env.toObject()

/** `/api/ably/token`, with the revocation check of `ABLY_REVOCABLE_TOKENS`. */
export const tokenEdgeFunction = /* @__PURE__ */ lazyHandler(
  netlifyEnv,
  /* @__PURE__ */ apiHandler({ routes: [tokenRoutes], settings: ['tokenTtl', 'revocation'], revocationStore: /* @__PURE__ */ lazyNetlifyBlobsStore() }),
)
export const tokenEdgeConfig = /* @__PURE__ */ edgeFunctionConfig(ABLY_TOKEN)

/** `/api/ably/stats`. */
export const statsEdgeFunction = /* @__PURE__ */ lazyHandler(
  netlifyEnv,
  /* @__PURE__ */ apiHandler({ routes: [statsRoutes], settings: ['restUrl', 'adminRoles'] }),
)
export const statsEdgeConfig = /* @__PURE__ */ edgeFunctionConfig(ABLY_STATS)

/** `/api/ably/presence` (admin roles only). */
export const presenceEdgeFunction = /* @__PURE__ */ lazyHandler(
  netlifyEnv,
  /* @__PURE__ */ apiHandler({ routes: [presenceRoutes], settings: ['restUrl', 'adminRoles'] }),
)
export const presenceEdgeConfig = /* @__PURE__ */ edgeFunctionConfig(ABLY_PRESENCE)

/**
 * The token and stats edge functions for an app's own channel policy (README, "Writing a channel policy"):
 * `export default tokenEdgeFunctionFor(myPolicy)`. The functions above serve the default, the SMS inbox.
 */
export const tokenEdgeFunctionFor = (policy: CredentialPolicy) =>
  lazyHandler(netlifyEnv, apiHandler({ routes: [tokenRoutes], settings: ['tokenTtl', 'revocation'], revocationStore: lazyNetlifyBlobsStore(), policy }))
export const statsEdgeFunctionFor = (policy: ChannelPolicy) =>
  lazyHandler(netlifyEnv, apiHandler({ routes: [statsRoutes], settings: ['restUrl', 'adminRoles'], policy }))
