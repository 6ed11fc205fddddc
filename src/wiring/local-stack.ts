/**
 * `npm start`: the whole product in one Node process on loopback. The API (the same app the Netlify functions
 * serve), the publish gateway with its outbox sweeper, the demo page, and, unless `ABLY_API_KEY` points at real
 * Ably, the local Ably-compatible hub. Missing secrets are generated once and kept in `.local/`.
 */
import type { AddressInfo } from 'node:net'
import { serve, type Http2Bindings, type HttpBindings, type ServerType } from '@hono/node-server'
import { parseAblyEnv, type Env } from '../config/index.ts'
import { nodeGatewayFromEnv, parseNodeEnv, type NodeGateway } from './node-gateway.ts'
import { createHub, type Hub } from '../hub/index.ts'
import { jsonLineLogger, type Logger } from '../log/index.ts'
import { demoSite } from '../local/demo/site.ts'
import { DEFAULT_DEV_SECRETS_FILE, loadDevSecrets, secretId } from '../local/dev-secrets.ts'
import { mintAppToken } from '../local/mint-app-token.ts'
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

const port = (value: string | undefined, fallback: number) => (value === undefined || value === '' ? fallback : Number(value))

export async function startLocalStack({
  env,
  port: apiPort = port(env.PORT, 8888),
  hubPort: requestedHubPort = port(env.ABLY_HUB_PORT, 8889),
  host = '127.0.0.1',
  secretsFile = DEFAULT_DEV_SECRETS_FILE,
  log = jsonLineLogger,
  sweepIntervalMs = 10_000,
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
  // Every problem, before any port is opened (the hub's URL is not known yet; a valid stand-in takes its place).
  parseNodeEnv(useHub ? { ...resolved, ABLY_REST_URL: 'http://localhost:8889' } : resolved)
  if (useHub && devSecrets) {
    const { name, secret } = parseAblyEnv({ ABLY_API_KEY: devSecrets.ablyKey }).key
    // ABLY_REVOCABLE_TOKENS=true: the hub's key gets revocable tokens, as the Ably dashboard step does for a real key.
    hub = createHub({ keys: [{ name, secret, revocableTokens: resolved.ABLY_REVOCABLE_TOKENS === 'true' }], host, port: requestedHubPort, log: (line) => log({ component: 'hub', ...line }) })
    hubPort = (await hub.listen().catch(portTaken(requestedHubPort, 'ABLY_HUB_PORT', 'the local Ably hub'))).port
    resolved.ABLY_REST_URL = `http://localhost:${hubPort}`
  }

  let node: NodeGateway
  try {
    node = nodeGatewayFromEnv(resolved, { log })
  } catch (error) {
    await hub?.close()
    throw error
  }
  const stopSweeper = node.gateway.startSweeper(sweepIntervalMs)

  // The dev login mints app JWTs for anyone who asks: only with a secret the stack made itself, or when asked to.
  const devLogin = jwtSecret !== '' && (generatedSecret !== undefined || env.DEV_LOGIN === 'true')
  const site = demoSite({ hub, mintSession: devLogin ? (userId, ttlSec) => mintAppToken(jwtSecret, { userId, ttlSec }) : undefined, ably: node.ablyRest })
  let server: ServerType
  try {
    server = await listen(
      (request, bindings) => (new URL(request.url).pathname.startsWith('/api/') ? node.app.fetch(request) : site.fetch(request, bindings)),
      apiPort,
      host,
    ).catch(portTaken(apiPort, 'PORT', 'the API and demo'))
  } catch (error) {
    stopSweeper()
    await node.gateway.close()
    await hub?.close()
    throw error
  }
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
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        if ('closeAllConnections' in server) server.closeAllConnections()
      })
      await node.gateway.close()
      await hub?.close()
    },
  }
}

/** A port that could not be taken: which one, what it was for, and the variable that moves it. */
export class PortInUseError extends Error {
  override readonly name = 'PortInUseError'
}

function portTaken(port: number, variable: string, what: string): (error: unknown) => never {
  return (error) => {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'EADDRINUSE') throw new PortInUseError(`Port ${port} (${what}) is already in use, perhaps by another \`npm start\`. Stop that, or set ${variable} to another port, e.g. ${variable}=${port + 10} npm start.`, { cause: error })
    if (code === 'EACCES') throw new PortInUseError(`Port ${port} (${what}) may not be used by this user. Set ${variable} to a port above 1023.`, { cause: error })
    throw error
  }
}

function listen(fetch: (request: Request, bindings: HttpBindings | Http2Bindings) => Response | Promise<Response>, port: number, hostname: string): Promise<ServerType> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: closeWhenBodyUnread(fetch), port, hostname, serverOptions: NODE_SERVER_OPTIONS }, () => resolve(server))
    server.once('error', reject)
  })
}
