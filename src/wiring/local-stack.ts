/**
 * `npm start`: the whole product in one Node process on loopback. The API (the same app the Netlify functions
 * serve), the publish gateway with its outbox sweeper, the demo page, and, unless `ABLY_API_KEY` points at real
 * Ably, the local Ably-compatible hub. Missing secrets are generated once and kept in `.local/`.
 */
import { readFile } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { serve, type Http2Bindings, type HttpBindings, type ServerType } from '@hono/node-server'
import { parseAblyEnv } from '../config/check.ts'
import { addProblem, ConfigError, throwProblems, type ConfigProblems, type Env } from '../config/index.ts'
import { configMessages } from '../config/messages.ts'
import { openApiDocument } from '../contract/openapi.ts'
import { nodeGatewayFromEnv, parseNodeEnv, type NodeGateway } from './node-gateway.ts'
import { createHub, type Hub } from '../hub/index.ts'
import { jsonLineLogger, type Logger } from '../log/index.ts'
import { demoSite } from '../local/demo/site.ts'
import { DEFAULT_DEV_SECRETS_FILE, loadDevSecrets, secretId } from '../local/dev-secrets.ts'
import { mintAppToken } from '../local/mint-app-token.ts'
import type { ChannelPolicy } from '../policy/index.ts'
import { closeWhenBodyUnread, NODE_SERVER_OPTIONS } from '../node-listener/index.ts'

export interface LocalStackOptions {
  /** The process environment; values that are set win over generated ones. */
  env: Env
  /** API and demo port (default `PORT` or 8888; 0 picks a free one). */
  port?: number
  /** Hub port (default `ABLY_HUB_PORT` or 8889; 0 picks a free one). */
  hubPort?: number
  host?: string
  secretsFile?: string
  log?: Logger
  /** How often the in-process outbox sweeper runs (the scheduled function's job on Netlify). */
  sweepIntervalMs?: number
  /** The channel policy; the SMS inbox by default. */
  policy?: ChannelPolicy
}

export interface LocalStack extends NodeGateway {
  /** Base URL of the API and demo, e.g. `http://localhost:8888`. */
  url: string
  /** The hub, when the stack runs one (no `ABLY_API_KEY`). */
  hub: Hub | undefined
  hubPort: number | undefined
  /** Where the store and Ably came from, for the banner. */
  sources: { ably: 'local hub' | 'Ably'; store: 'in-memory' | 'MongoDB'; secrets: 'generated' | 'environment' }
  /** A one-way label of the stack's JWT secret (see `secretId`), so `npm run dev:token` can check it signs with the same. */
  jwtSecretId: string
  /** Mints an app JWT with the stack's JWT secret (dev only). */
  mintAppToken(userId: string, role?: string): Promise<string>
  close(): Promise<void>
}

/** A port variable: unset or empty means the default; else a whole number from 0 (a free one) to 65535. */
export function readPort(env: Env, variable: string, fallback: number, problems: ConfigProblems): number {
  const value = env[variable]
  if (value === undefined || value === '') return fallback
  if (/^\d{1,5}$/.test(value) && Number(value) <= 65_535) return Number(value)
  addProblem(problems, variable, `must be a port number from 0 (a free one) to 65535, got ${JSON.stringify(value)}`)
  return fallback
}

export async function startLocalStack({
  env,
  port: apiPortOption,
  hubPort: hubPortOption,
  host = '127.0.0.1',
  secretsFile = DEFAULT_DEV_SECRETS_FILE,
  log = jsonLineLogger,
  sweepIntervalMs = 10_000,
  policy,
}: LocalStackOptions): Promise<LocalStack> {
  const useHub = !env.ABLY_API_KEY
  const devSecrets = useHub || !env.JWT_SECRET ? await loadDevSecrets(secretsFile) : undefined
  // With an identity provider's keys configured and no JWT_SECRET, logins are the provider's: no secret is generated
  // (it would turn on the self-signed verifier beside the keys) and there is no dev login.
  const providerKeys = ['JWT_PROVIDER', 'JWT_JWKS_URL', 'JWT_PUBLIC_KEY'].some((name) => env[name]?.trim())
  const generatedSecret = !env.JWT_SECRET && !providerKeys ? devSecrets?.jwtSecret : undefined
  const jwtSecret = env.JWT_SECRET || generatedSecret || ''

  let hub: Hub | undefined
  let hubPort: number | undefined
  const resolved: Record<string, string | undefined> = { ...env, JWT_SECRET: jwtSecret || undefined }
  if (useHub && devSecrets) resolved.ABLY_API_KEY = devSecrets.ablyKey
  // Every problem, the ports among them, before any port is opened (the hub's URL is not known yet; a valid
  // stand-in takes its place).
  const ports: ConfigProblems = []
  const apiPort = apiPortOption ?? readPort(env, 'PORT', 8888, ports)
  const requestedHubPort = hubPortOption ?? readPort(env, 'ABLY_HUB_PORT', 8889, ports)
  if (useHub && ports.length === 0 && apiPort !== 0 && apiPort === requestedHubPort) {
    const variable = env.ABLY_HUB_PORT ? 'ABLY_HUB_PORT' : 'PORT'
    addProblem(
      ports,
      variable,
      `is ${apiPort}, the port of ${variable === 'PORT' ? 'the local Ably hub (ABLY_HUB_PORT)' : 'the API and demo (PORT)'} too: each needs its own port`,
    )
  }
  try {
    parseNodeEnv(useHub ? { ...resolved, ABLY_REST_URL: 'http://localhost:8889' } : resolved)
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    ports.unshift(...error.problems)
  }
  if (ports.length > 0) throwProblems(ports, configMessages)

  // Both ports at once, so a second `npm start` hears of every port it needs moved in one go. Requests wait
  // for the API until it is built, a moment later.
  let ready: (fetch: SiteFetch) => void = () => {}
  const handler = new Promise<SiteFetch>((resolve) => (ready = resolve))
  if (useHub && devSecrets) {
    const { name, secret } = parseAblyEnv({ ABLY_API_KEY: devSecrets.ablyKey }).key
    // ABLY_REVOCABLE_TOKENS=true: the hub's key gets revocable tokens, as the Ably dashboard step does for a real key.
    hub = createHub({
      keys: [{ name, secret, revocableTokens: resolved.ABLY_REVOCABLE_TOKENS === 'true' }],
      host,
      port: requestedHubPort,
      log: (line) => log({ component: 'hub', ...line }),
    })
  }
  const [hubListening, apiListening] = await Promise.allSettled([
    hub?.listen(),
    listen(async (request, bindings) => (await handler)(request, bindings), apiPort, host),
  ])
  const taken = [
    hubListening.status === 'rejected' ? portProblem(hubListening.reason, requestedHubPort, 'ABLY_HUB_PORT', 'the local Ably hub') : undefined,
    apiListening.status === 'rejected' ? portProblem(apiListening.reason, apiPort, 'PORT', 'the API and demo') : undefined,
  ].filter((problem) => problem !== undefined)
  if (taken.length > 0) {
    if (apiListening.status === 'fulfilled') await closeServer(apiListening.value)
    if (hubListening.status === 'fulfilled') await hub?.close()
    throw new PortInUseError(taken, 'npm start')
  }
  const server = (apiListening as PromiseFulfilledResult<ServerType>).value
  if (hub) {
    hubPort = hub.port
    resolved.ABLY_REST_URL = `http://localhost:${hubPort}`
  }

  let node: NodeGateway
  try {
    node = nodeGatewayFromEnv(resolved, { log, ...(policy && { policy }) })
  } catch (error) {
    await closeServer(server)
    await hub?.close()
    throw error
  }
  const stopSweeper = node.gateway.startSweeper(sweepIntervalMs)

  // The dev login mints app JWTs for anyone who asks: only with a secret the stack made itself, or when asked to.
  const devLogin = jwtSecret !== '' && (generatedSecret !== undefined || env.DEV_LOGIN === 'true')
  const site = demoSite({ hub, mintSession: devLogin ? (userId, ttlSec) => mintAppToken(jwtSecret, { userId, ttlSec }) : undefined, ably: node.ablyRest })
  ready((request, bindings) => {
    const { pathname } = new URL(request.url)
    if (pathname === OPENAPI_PATH && request.method === 'GET') return servedOpenApi(new URL(request.url).origin)
    return pathname.startsWith('/api/') ? node.app.fetch(request) : site.fetch(request, bindings)
  })
  const url = `http://localhost:${(server.address() as AddressInfo).port}`

  return {
    ...node,
    url,
    hub,
    hubPort,
    sources: {
      ably: hub ? 'local hub' : 'Ably',
      store: node.gateway.config.store.kind === 'mongodb' ? 'MongoDB' : 'in-memory',
      secrets: generatedSecret !== undefined ? 'generated' : 'environment',
    },
    jwtSecretId: secretId(jwtSecret),
    mintAppToken: (userId, role) => mintAppToken(jwtSecret, { userId, ...(role !== undefined && { role }) }),
    async close() {
      stopSweeper()
      await closeServer(server)
      await node.gateway.close()
      await hub?.close()
    },
  }
}

/** Where the local stack serves the OpenAPI document of the API it runs. */
export const OPENAPI_PATH = '/api/ably/openapi.json'

/** The document, with this stack as its server and the package's version (package.json two folders up, in src/ and dist/ alike). */
async function servedOpenApi(origin: string): Promise<Response> {
  const { version } = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  return Response.json(openApiDocument({ version, servers: [origin] }), { headers: { 'Cache-Control': 'no-cache', 'Access-Control-Allow-Origin': '*' } })
}

interface TakenPort {
  port: number
  variable: string
  what: string
  code: 'EADDRINUSE' | 'EACCES'
}

/** Ports that could not be taken: which, what each was for, and the variables that move them, in one line. */
export class PortInUseError extends Error {
  override readonly name = 'PortInUseError'
  constructor(
    readonly taken: readonly TakenPort[],
    command: string,
    holder = `another \`${command}\``,
  ) {
    const denied = taken.filter((port) => port.code === 'EACCES')
    const used = taken.filter((port) => port.code === 'EADDRINUSE')
    const list = (ports: readonly TakenPort[]) => ports.map(({ port, what }) => `${port} (${what})`).join(' and ')
    const names = (ports: readonly TakenPort[]) => ports.map(({ variable }) => variable).join(' and ')
    const sentences = []
    if (used.length > 0) {
      const example = used.map(({ port, variable }) => `${variable}=${port + 10}`).join(' ')
      sentences.push(
        `${used.length > 1 ? 'Ports' : 'Port'} ${list(used)} ${used.length > 1 ? 'are' : 'is'} already in use, perhaps by ${holder}. Stop that, or set ${names(used)} to another port, e.g. ${example} ${command}.`,
      )
    }
    if (denied.length > 0)
      sentences.push(`${denied.length > 1 ? 'Ports' : 'Port'} ${list(denied)} may not be used by this user. Set ${names(denied)} to a port above 1023.`)
    super(sentences.join(' '))
  }
}

/** The port problem behind a failed listen, or the error itself when it is not one. */
export function portProblem(error: unknown, port: number, variable: string, what: string): TakenPort {
  const code = (error as NodeJS.ErrnoException).code
  if (code === 'EADDRINUSE' || code === 'EACCES') return { port, variable, what, code }
  throw error
}

type SiteFetch = (request: Request, bindings: HttpBindings | Http2Bindings) => Response | Promise<Response>

function closeServer(server: ServerType): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve())
    if ('closeAllConnections' in server) server.closeAllConnections()
  })
}

function listen(fetch: SiteFetch, port: number, hostname: string): Promise<ServerType> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: closeWhenBodyUnread(fetch), port, hostname, serverOptions: NODE_SERVER_OPTIONS }, () => resolve(server))
    server.once('error', reject)
  })
}
