/**
 * Serves an unpacked edge bundle (see `unpack-eszip.ts`) on loopback, as a stand-in for Netlify's edge runtime, whose
 * bootstrap is not published on npm. It defines a `Netlify` global (`env` over the given variables, `context`), imports
 * `stage2.js` like the runtime does, matches each request against the manifest's routes (pattern, excluded patterns,
 * methods) and calls the function with a per-request `context`. What it does not do: enforce traffic rules, CPU or
 * memory limits, caching, or Netlify's own request headers and geolocation.
 *
 *   deno run --no-config --allow-read --allow-net=127.0.0.1 --import-map=<dir>/import_map.json serve-edge.ts <dir> <manifest.json> <env.json>
 *
 * Prints `{"port":…}` once listening; logs of the functions go to stdout as JSON lines, as on Netlify.
 */
const [dir, manifestPath, envPath] = Deno.args
if (!dir || !manifestPath || !envPath) throw new Error('usage: serve-edge.ts <unpacked dir> <manifest.json> <env.json>')

interface Route {
  function: string
  pattern: string
  excluded_patterns: string[]
  methods?: string[]
}
// Post-cache routes (`cache: 'manual'`) run after Netlify's cache; with no cache here, they are matched after the others.
const manifest: { routes: Route[]; post_cache_routes?: Route[] } = JSON.parse(await Deno.readTextFile(manifestPath))
const routes = [...manifest.routes, ...(manifest.post_cache_routes ?? [])]
const vars = new Map<string, string>(Object.entries(JSON.parse(await Deno.readTextFile(envPath)) as Record<string, string>))

Object.defineProperty(globalThis, 'Netlify', {
  value: {
    get context() {
      return null
    },
    env: {
      get: (name: string) => vars.get(name),
      has: (name: string) => vars.has(name),
      set: (name: string, value: string) => void vars.set(name, value),
      delete: (name: string) => void vars.delete(name),
      toObject: () => Object.fromEntries(vars),
    },
  },
})

type EdgeFunction = (request: Request, context: unknown) => Response | undefined | Promise<Response | undefined>
const cwd = `file://${Deno.cwd()}/`
const { functions } = (await import(new URL('stage2.js', new URL(dir.replace(/\/?$/, '/'), cwd)).href)) as { functions: Record<string, EdgeFunction> }

// What the origin (static files) would answer when no edge function handles a request.
const origin = () => new Response('Not Found (origin)', { status: 404, headers: { 'content-type': 'text/plain' } })

function contextFor(request: Request, remoteAddr: string) {
  const requestId = crypto.randomUUID()
  return {
    ip: remoteAddr,
    requestId,
    account: { id: 'deploy-check' },
    deploy: { context: 'production', id: 'deploy-check', published: true },
    geo: { city: 'Local', country: { code: 'XX', name: 'Local' }, timezone: 'UTC' },
    server: { region: 'local' },
    site: { id: 'deploy-check', name: 'deploy-check', url: new URL(request.url).origin },
    params: {},
    url: new URL(request.url),
    cookies: { get: () => undefined, set: () => {}, delete: () => {} },
    json: (body: unknown, init?: ResponseInit) => Response.json(body, init),
    log: (...args: unknown[]) => console.log(...args),
    next: () => Promise.resolve(origin()),
    rewrite: () => Promise.resolve(origin()),
    waitUntil: (promise: Promise<unknown>) => void promise.catch(() => {}),
  }
}

Deno.serve({ hostname: '127.0.0.1', port: 0, onListen: ({ port }) => console.log(JSON.stringify({ port })) }, async (request, info) => {
  const { pathname } = new URL(request.url)
  const route = routes.find(
    (route) =>
      new RegExp(route.pattern).test(pathname) &&
      !route.excluded_patterns.some((pattern) => new RegExp(pattern).test(pathname)) &&
      (!route.methods?.length || route.methods.includes(request.method)),
  )
  const handler = route && functions[route.function]
  if (!handler) return origin()
  return (await handler(request, contextFor(request, info.remoteAddr.hostname))) ?? origin()
})

export {}
