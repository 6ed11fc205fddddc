/**
 * The public surface: every module a user imports, by the subpath it will have in package.json `exports`, with
 * where it runs. Everything else under `src/` is internal. The unused-export check (knip, `knip.ts`) takes these
 * files as entries, so pruning never removes what users import; `tests/contract/public.test.ts` checks that each
 * file exists, that the README's table lists exactly these, and that the browser entries import no server module.
 */

/** Where a module runs: `edge` is Netlify's Deno edge (and Workers), `any` is every runtime including the browser. */
type Runtime = 'browser' | 'edge' | 'node' | 'any'

export interface PublicEntry {
  readonly file: string
  readonly runs: Runtime
  /** Only for development and tests (`npm start`, the local hub): never deployed. */
  readonly devOnly?: true
}

export const PUBLIC_ENTRIES = {
  // Browser apps.
  './client': { file: 'src/client/index.ts', runs: 'browser' },
  // Shared by the browser, the edge and Node.
  './channels': { file: 'src/channels/index.ts', runs: 'any' },
  './policy': { file: 'src/policy/index.ts', runs: 'any' },
  './policy/sms-inbox': { file: 'src/policy/sms-inbox.ts', runs: 'any' },
  './contract': { file: 'src/contract/index.ts', runs: 'any' },
  './errors': { file: 'src/errors/index.ts', runs: 'any' },
  // Building entry files (edge and Node doors) and apps from an environment.
  './config': { file: 'src/config/public.ts', runs: 'edge' },
  './app': { file: 'src/app.ts', runs: 'edge' },
  './routes': { file: 'src/routes/index.ts', runs: 'edge' },
  './handlers': { file: 'src/wiring/handlers.ts', runs: 'edge' },
  './netlify-functions': { file: 'src/deploy/functions.ts', runs: 'edge' },
  './netlify-edge': { file: 'src/wiring/netlify-edge.ts', runs: 'edge' },
  './node-gateway': { file: 'src/wiring/node-gateway.ts', runs: 'node' },
  './netlify-node': { file: 'src/wiring/netlify-node.ts', runs: 'node' },
  // Node servers holding the Ably key.
  './server': { file: 'src/server/index.ts', runs: 'node' },
  './channels/schemas': { file: 'src/channels/schemas.ts', runs: 'node' },
  './policy/payloads': { file: 'src/policy/payloads.ts', runs: 'node' },
  './migration/socket-io': { file: 'src/migration/socket-io.ts', runs: 'node' },
  // Development: the local Ably-compatible hub, and the whole stack of `npm start`.
  './hub': { file: 'src/hub/index.ts', runs: 'node', devOnly: true },
  './local-stack': { file: 'src/wiring/local-stack.ts', runs: 'node', devOnly: true },
} as const satisfies Record<`./${string}`, PublicEntry>

/** The commands, by the name they will have in package.json `bin`. */
export const PUBLIC_BINS = {
  // Development: the local hub alone, for apps that run their own server.
  'ably-hub': 'src/wiring/hub-cli.ts',
} as const
