/** Wires the gateway for Node hosts (Netlify Functions, `npm start`, the server helpers): config, store, Ably, app. */
import type { Hono } from 'hono/tiny'
import { createFetchAblyRest, type AblyRest } from '../ably-rest/index.ts'
import { createApp } from '../app.ts'
import type { AppEnv } from '../app-env.ts'
import { parseConfig, type Config, type Env } from '../config/index.ts'
import { jsonLineLogger, type Logger } from '../log/index.ts'
import { edgeRoutes } from '../routes/index.ts'
import type { MessageStore } from '../store/index.ts'
import { createMemoryStore } from '../store/memory.ts'
import { createMongoStore } from '../store/mongodb.ts'
import { parseGatewayConfig, type StoreConfig } from './config.ts'
import { createGateway, type Gateway } from './index.ts'
import { gatewayRoutes } from './routes.ts'

export interface NodeGatewayOptions {
  /** Refuse the embedded store unless `MESSAGE_STORE=memory` says so (serverless instances forget it). */
  requireDurableStore?: boolean
  store?: MessageStore
  ably?: AblyRest
  log?: Logger
  now?: () => number
  sleep?: (ms: number) => Promise<void>
}

export interface NodeGateway {
  /** The one app: token and stats, with the gateway's publish and history beside them. */
  app: Hono<AppEnv>
  gateway: Gateway
  config: Config
}

/** Checks the environment (throwing one `ConfigError` naming every bad variable) and builds the app and gateway. */
export function nodeGatewayFromEnv(env: Env, { requireDurableStore = false, store, ably, log = jsonLineLogger, now = Date.now, sleep }: NodeGatewayOptions = {}): NodeGateway {
  const config = parseConfig(env)
  const gatewayConfig = parseGatewayConfig(env, { requireDurableStore })
  const ablyRest = ably ?? createFetchAblyRest({ key: config.ably.key, restUrl: config.ably.restUrl })
  if (!store && gatewayConfig.store.kind === 'memory') {
    log({ level: 'warn', msg: 'memory_store', detail: 'Accepted messages are kept in this process only. Set MONGODB_URI to keep them.' })
  }
  const gateway = createGateway({ store: store ?? openStore(gatewayConfig.store), config: gatewayConfig, ably: ablyRest, log, now, ...(sleep && { sleep }) })
  // The same router as the edge; on Netlify each function is sent only its own paths.
  const app = createApp(config, { ably: ablyRest, log, now, routes: [...edgeRoutes, gatewayRoutes(gateway)] })
  return { app, gateway, config }
}

/** The store the config names: MongoDB, or the embedded one. */
export function openStore(config: StoreConfig): MessageStore {
  return config.kind === 'mongodb'
    ? createMongoStore({ uri: config.uri, dbName: config.dbName, timeoutMs: config.timeoutMs, maxPoolSize: config.maxPoolSize })
    : createMemoryStore()
}
