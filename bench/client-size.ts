/**
 * Size of the browser client (src/client, with the ably-js modular build it uses) against the full `ably` browser
 * bundle. `npx tsx bench/client-size.ts` prints JSON.
 */
import { pathToFileURL } from 'node:url'
import { gzipSync } from 'node:zlib'
import { bundleForBrowser } from '../src/local/browser-bundle.ts'

/** Bytes of a minified ESM browser bundle, as shipped and gzipped (level 9). */
export interface Size {
  raw: number
  gzip: number
}

export interface ClientSizeReport {
  /** `src/client/index.ts`: the service, token source, dedup, backfill, and ably-js modular with its plugins. */
  client: Size
  /** ably-js modular alone with the plugins the client uses (`BaseRealtime`, `WebSocketTransport`, `FetchRequest`). */
  ablyModularCore: Size
  /** `import * as Ably from 'ably'`: the default, full browser build. */
  ablyFull: Size
}

const sizeOf = (code: string): Size => ({ raw: Buffer.byteLength(code), gzip: gzipSync(code, { level: 9 }).length })

export async function measureClientSize(): Promise<ClientSizeReport> {
  return {
    client: sizeOf(await bundleForBrowser('src/client/index.ts')),
    ablyModularCore: sizeOf(await bundleForBrowser({ contents: "export { BaseRealtime, WebSocketTransport, FetchRequest } from 'ably/modular'" })),
    ablyFull: sizeOf(await bundleForBrowser({ contents: "import * as Ably from 'ably'\nexport default Ably" })),
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(JSON.stringify(await measureClientSize(), null, 2))
}
