/** Debian's Chromium for the browser suites (playwright-core, never a downloaded browser). */
import { existsSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Readable } from 'node:stream'
import { chromium, type Browser } from 'playwright-core'

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium'
export const hasChromium = existsSync(CHROMIUM)
if (!hasChromium && process.env.CI) throw new Error(`The browser suite must run in CI, but ${CHROMIUM} is missing: .ci/run installs Debian's chromium package.`)

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  })
}

export interface AppOrigin {
  /** e.g. `http://localhost:41234`: a loopback origin, as Chromium requires for a page that opens loopback sockets. */
  url: string
  close(): Promise<void>
}

/**
 * An app's own origin on loopback: `script` as the page's module at `/`, and `/api/*` passed on to `api` (a local
 * stack), so the browser client's default `/api/ably/token` is same-origin, as on a Netlify site.
 */
export async function serveAppOrigin(script: string, api: string): Promise<AppOrigin> {
  const server = createServer(async (req, res) => {
    if (req.url?.startsWith('/api/')) {
      const body = req.method === 'GET' || req.method === 'HEAD' ? undefined : await new Response(Readable.toWeb(req) as ReadableStream).text()
      const headers = Object.fromEntries(
        ['authorization', 'content-type', 'idempotency-key'].flatMap((name) => (req.headers[name] ? [[name, String(req.headers[name])]] : [])),
      )
      const answer = await fetch(`${api}${req.url}`, { method: req.method ?? 'GET', headers, ...(body !== undefined && { body }) })
      res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' }).end(await answer.text())
      return
    }
    res
      .writeHead(200, { 'content-type': 'text/html' })
      .end(`<!doctype html><div id="root"></div><script type="module">${script.replaceAll('</script', '<\\/script')}</script>`)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://localhost:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}
