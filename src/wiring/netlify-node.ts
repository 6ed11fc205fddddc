/**
 * Netlify Functions (Node), ready to export: a Node entry file of a site is three lines, its `config` a literal.
 *
 *   import { publishNetlifyFunction } from 'ably-netlify-integration/netlify-node'
 *   export default publishNetlifyFunction
 *   export const config = { path: '/api/ably/publish', rateLimit: { windowLimit: 120, windowSize: 60, aggregateBy: ['ip', 'domain'] } }
 *
 * zip-it-and-ship-it reads a Node function's `config` by parsing that very file, never by running it, so the config
 * cannot be imported from here: copy it from `nodeFunctionConfig(name)` (the README lists each). `npm run check:deploy`
 * fails when a copy differs from the route table, and `nodeFunctionConfig` lets a site's own test compare them.
 * Importing reads nothing: each function reads `process.env` and checks it on its first request.
 */
import { NETLIFY_FUNCTIONS, type NetlifyFunction, type NetlifyFunctionName } from '../deploy/functions.ts'
import { lazyHandler } from './handlers.ts'
import { revokeFunction, revokeFunctionFor } from './revocation.ts'
import type { ChannelPolicy, ChannelsPolicy } from '../policy/index.ts'
import { healthFunction, historyFunction, historyFunctionFor, outboxFunction, publishFunction, publishFunctionFor } from './node-gateway.ts'

const processEnv = () => process.env

/** `POST /api/ably/publish` (MongoDB required). */
export const publishNetlifyFunction = /* @__PURE__ */ lazyHandler(processEnv, publishFunction)
/** `GET /api/ably/history`. */
export const historyNetlifyFunction = /* @__PURE__ */ lazyHandler(processEnv, historyFunction)
/** `GET /api/ably/health`. */
export const healthNetlifyFunction = /* @__PURE__ */ lazyHandler(processEnv, healthFunction)
/** `POST /api/ably/revoke` (sign-out). */
export const revokeNetlifyFunction = /* @__PURE__ */ lazyHandler(processEnv, revokeFunction)
/** The outbox sweeper, a scheduled function (`schedule: '* * * * *'`). */
export const outboxNetlifyFunction = /* @__PURE__ */ lazyHandler(processEnv, outboxFunction)

/** The publish and history functions for an app's own channel policy: `export default publishNetlifyFunctionFor(myPolicy)`. */
export const publishNetlifyFunctionFor = (policy: ChannelPolicy) => lazyHandler(processEnv, publishFunctionFor(policy))
export const historyNetlifyFunctionFor = (policy: ChannelPolicy) => lazyHandler(processEnv, historyFunctionFor(policy))
/** The revoke function for an app's own channel policy (a session holding a TokenRequest's token is then revoked whole). */
export const revokeNetlifyFunctionFor = (policy: ChannelsPolicy) => lazyHandler(processEnv, revokeFunctionFor(policy))

/** The literal a Node function's `export const config` must hold, from the route table. */
export function nodeFunctionConfig(name: Extract<NetlifyFunctionName, `ably-${'publish' | 'history' | 'health' | 'outbox' | 'revoke'}`>) {
  const { path, rateLimit, schedule } = NETLIFY_FUNCTIONS[name] as NetlifyFunction
  return {
    ...(path !== undefined && { path }),
    ...(rateLimit !== undefined && { rateLimit: { ...rateLimit, aggregateBy: [...rateLimit.aggregateBy] } }),
    ...(schedule !== undefined && { schedule }),
  }
}
