/** Deno entry: `deno run --allow-env --allow-net hosts/deno-serve.ts`, on PORT (8000) at HOST (127.0.0.1). */
import { appFromEnv } from '../src/wiring/app-from-env.ts'
import { edgeRoutes } from '../src/routes/index.ts'

const env = Deno.env.toObject()
export const app = appFromEnv(env, { routes: edgeRoutes })

/** Starts the server; the options override PORT and HOST (tests pass port 0). */
export const serve = ({ port = Number(env.PORT ?? 8000), hostname = env.HOST ?? '127.0.0.1', ...rest }: Deno.ServeTcpOptions = {}) =>
  Deno.serve({ port, hostname, ...rest }, app.fetch)

if (import.meta.main) serve()
