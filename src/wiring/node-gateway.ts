/** Wires the gateway for Node hosts (Netlify Functions, `npm start`, the server helpers): config, store, Ably, app. */
import type { Hono } from 'hono/tiny'
import { createFetchAblyRest, type AblyRest } from '../ably-rest/index.ts'
import { createApp } from '../app.ts'
import type { AppEnv, RouteFactory } from '../app-env.ts'
import { checkEnv } from '../config/check.ts'
import { ALL_API_SETTINGS, readAbly, type ApiSetting, type Config, type Env } from '../config/index.ts'
import { readConfig } from '../config/parse.ts'
import type { HandlerBuilder } from './handlers.ts'
import { logHealthLine } from '../health/index.ts'
import { healthRoutes } from '../health/routes.ts'
import { jsonLineLogger, type Logger } from '../log/index.ts'
import { edgeRoutes } from '../routes/index.ts'
import type { MessageStore } from '../store/index.ts'
import { openStore } from '../store/open.ts'
import { ALL_GATEWAY_SETTINGS, readGatewayConfig, type GatewayConfig, type GatewaySetting } from '../gateway/config.ts'
import { createGateway, type Gateway } from '../gateway/index.ts'
import { gatewayRoutes } from '../gateway/routes.ts'
import type { ChannelPolicy } from '../policy/index.ts'
import { createMemoryRevocationStore, type RevocationStore } from '../revocation/deny-list.ts'
import { revokeRoutes } from '../revocation/routes.ts'

export interface NodeGatewayOptions {
  /** Refuse the embedded store unless `MESSAGE_STORE=memory` says so (serverless instances forget it). */
  requireDurableStore?: boolean
  /** Also serve the edge routes (token, stats, presence), health and revoke, as `npm start` does; a Netlify function serves only its own. */
  withEdgeRoutes?: boolean
  /** The routes served, instead of publish and history (and the edge routes). */
  routes?: (gateway: Gateway) => readonly RouteFactory[]
  /** The optional settings read (see `ApiSetting` and `GatewaySetting`); all of them by default. */
  apiSettings?: readonly ApiSetting[]
  gatewaySettings?: readonly GatewaySetting[]
  store?: MessageStore
  ably?: AblyRest
  /** The revocation deny-list's store (`ABLY_REVOCABLE_TOKENS=true`); this process's memory by default. */
  revocationStore?: RevocationStore
  log?: Logger
  now?: () => number
  sleep?: (ms: number) => Promise<void>
  /** The channel policy (README, "Writing a channel policy"); the SMS inbox by default. */
  policy?: ChannelPolicy
}

export interface NodeGateway {
  /** The one app: the gateway's publish and history, with token and stats beside them when asked. */
  app: Hono<AppEnv>
  gateway: Gateway
  config: Config
  /** The Ably REST port the app uses (for `serverHelpersFor`'s `isOnline`). */
  ablyRest: AblyRest
}

/**
 * Checks the environment in one pass, API and gateway together, so one `ConfigError` names every bad variable, and
 * builds the app and gateway.
 */
export function nodeGatewayFromEnv(
  env: Env,
  {
    requireDurableStore = false,
    withEdgeRoutes = true,
    apiSettings = ALL_API_SETTINGS,
    gatewaySettings = ALL_GATEWAY_SETTINGS,
    routes: chooseRoutes,
    ...deps
  }: NodeGatewayOptions = {},
): NodeGateway {
  const { config, gatewayConfig } = parseNodeEnv(env, { requireDurableStore, apiSettings, gatewaySettings })
  const { log = jsonLineLogger, now = Date.now } = deps
  const ably = deps.ably ?? createFetchAblyRest(config.ably)
  const gateway = buildGateway(gatewayConfig, { ...deps, ably, log, now })
  // The same router as the edge; on Netlify each function is sent only its own paths, so it mounts only its own.
  const routes = chooseRoutes?.(gateway) ?? [...(withEdgeRoutes ? [...edgeRoutes, healthRoutes(gateway), revokeRoutes] : []), gatewayRoutes(gateway)]
  // One process serves token and revoke alike here (npm start, the server helpers), so memory is a shared deny-list.
  const app = createApp(config, {
    ably,
    log,
    now,
    routes,
    revocationStore: deps.revocationStore ?? createMemoryRevocationStore(),
    ...(deps.policy && { policy: deps.policy }),
  })
  return { app, gateway, config, ablyRest: ably }
}

/** Checks the API's and the gateway's variables in one pass; throws one `ConfigError` naming every bad one. */
export function parseNodeEnv(
  env: Env,
  {
    requireDurableStore = false,
    apiSettings = ALL_API_SETTINGS,
    gatewaySettings = ALL_GATEWAY_SETTINGS,
  }: Pick<NodeGatewayOptions, 'requireDurableStore' | 'apiSettings' | 'gatewaySettings'> = {},
): { config: Config; gatewayConfig: GatewayConfig } {
  return checkEnv((problems) => {
    const config = readConfig(env, problems, apiSettings)
    const gatewayConfig = readGatewayConfig(env, problems, { requireDurableStore, settings: gatewaySettings })
    return config && { config, gatewayConfig }
  })
}

/**
 * The outbox alone: it reads the Ably key, `ABLY_REST_URL`, the store and `OUTBOX_MAX_AGE_SEC`, and nothing of the
 * API's (no JWT secret, no CORS), so a mistake there never stops the sweeper from delivering what was accepted.
 */
export function outboxFromEnv(
  env: Env,
  {
    log = jsonLineLogger,
    now = Date.now,
    ...deps
  }: Omit<NodeGatewayOptions, 'requireDurableStore' | 'withEdgeRoutes' | 'apiSettings' | 'gatewaySettings' | 'routes'> = {},
): Gateway {
  const { ably, gatewayConfig } = checkEnv((problems) => {
    const ably = readAbly(env, problems)
    const gatewayConfig = readGatewayConfig(env, problems, { requireDurableStore: true, settings: ['outbox'] })
    return ably && { ably, gatewayConfig }
  })
  return buildGateway(gatewayConfig, { ...deps, ably: deps.ably ?? createFetchAblyRest(ably), log, now })
}

/**
 * The Netlify function serving `POST /api/ably/publish`: the Ably key, JWT, CORS, admin roles, the store, `PUBLISH_*`.
 * On a deploy that is not published (a Deploy Preview, a branch deploy, a draft) no scheduled function runs, so a
 * message answered `202 queued` there is never swept: each such answer logs `queued_on_unpublished_deploy` to say so.
 */
export const publishFunction: HandlerBuilder = (env, log) => publishFunctionFor()(env, log)

/** `publishFunction` for an app's own channel policy. */
export const publishFunctionFor =
  (policy?: ChannelPolicy): HandlerBuilder =>
  (env, log) => {
    const { app } = nodeGatewayFromEnv(env, {
      requireDurableStore: true,
      withEdgeRoutes: false,
      apiSettings: ['restUrl', 'adminRoles'],
      gatewaySettings: ['publish'],
      log,
      ...(policy && { policy }),
    })
    return async (request, context) => {
      const response = await app.fetch(request)
      if (response.status === 202 && context?.deploy?.published === false) {
        log({
          level: 'warn',
          msg: 'queued_on_unpublished_deploy',
          deployContext: context.deploy.context,
          requestId: response.headers.get('x-request-id'),
          detail: "Scheduled functions do not run on this deploy, so its outbox never delivers this message: it stays pending in this deploy's store.",
        })
      }
      return response
    }
  }

/**
 * The Netlify function serving `GET /api/ably/history`. It reads the store, JWT, CORS and admin roles, and the Ably
 * key too, because the gateway it shares with publish holds an Ably client (it never calls it).
 */
export const historyFunction: HandlerBuilder = (env, log) => historyFunctionFor()(env, log)

/** `historyFunction` for an app's own channel policy. */
export const historyFunctionFor =
  (policy?: ChannelPolicy): HandlerBuilder =>
  (env, log) => {
    const { app } = nodeGatewayFromEnv(env, {
      requireDurableStore: true,
      withEdgeRoutes: false,
      apiSettings: ['adminRoles'],
      gatewaySettings: ['history'],
      log,
      ...(policy && { policy }),
    })
    return (request) => app.fetch(request)
  }

/** The Netlify function serving `GET /api/ably/health`: the store, the Ably key, JWT and admin roles. */
export const healthFunction: HandlerBuilder = (env, log) => {
  const { app } = nodeGatewayFromEnv(env, {
    requireDurableStore: true,
    apiSettings: ['restUrl', 'adminRoles'],
    gatewaySettings: [],
    routes: (gateway) => [healthRoutes(gateway)],
    log,
  })
  return (request) => app.fetch(request)
}

/** The scheduled outbox function: each invocation is one sweep, answered with its report, then one `health` line. */
export const outboxFunction: HandlerBuilder = (env, log) => {
  const gateway = outboxFromEnv(env, { log })
  return async () => {
    try {
      return Response.json(await gateway.sweep())
    } finally {
      await logHealthLine({ outboxStats: (since) => gateway.outboxStats(since), now: Date.now, log })
    }
  }
}

function buildGateway(
  config: GatewayConfig,
  {
    store,
    ably,
    log,
    now,
    sleep,
    policy,
  }: { store?: MessageStore; ably: AblyRest; log: Logger; now: () => number; sleep?: (ms: number) => Promise<void>; policy?: ChannelPolicy },
): Gateway {
  if (!store && config.store.kind === 'memory') {
    log({ level: 'warn', msg: 'memory_store', detail: 'Accepted messages are kept in this process only. Set MONGODB_URI to keep them.' })
  }
  return createGateway({ store: store ?? openStore(config.store), config, ably, log, now, ...(sleep && { sleep }), ...(policy && { policy }) })
}
