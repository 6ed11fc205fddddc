/** The README's `ably/react` example, bundled with esbuild and run in Chromium against the local stack and its hub. */
import { build } from 'esbuild'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { serverHelpersFor, type ServerHelpers } from '../../src/server/helpers.ts'
import { hasChromium, launchChromium, serveAppOrigin, type AppOrigin } from '../support/chromium.ts'
import { useLocalStack } from '../support/local-stack.ts'

const local = useLocalStack({}, { enabled: hasChromium })
let browser: Browser
let server: ServerHelpers
let site: AppOrigin | undefined

beforeAll(async () => {
  if (!hasChromium) return
  server = serverHelpersFor(local.stack.gateway, local.stack.ablyRest)
  const bundled = await build({
    entryPoints: [`${import.meta.dirname}/react/app.tsx`],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    jsx: 'automatic',
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'silent',
  })
  const script = bundled.outputFiles[0]?.text ?? ''
  site = await serveAppOrigin(script, local.stack.url)
  browser = await launchChromium()
})
afterAll(async () => {
  await browser?.close()
  await server?.close()
  await site?.close()
})

describe.runIf(hasChromium)('the ably/react example', () => {
  it('receives what the server publishes, through AblyProvider, ChannelProvider and useChannel, with a token from createTokenAuth', async () => {
    const page = await (await browser.newContext()).newPage()
    const errors: string[] = []
    page.on('pageerror', (error) => errors.push(error.message))
    let tokenRequests = 0
    page.on('request', (request) => {
      if (new URL(request.url()).pathname === '/api/ably/token') tokenRequests += 1
    })
    const query = new URLSearchParams({ userId: 'alice', jwt: await local.stack.mintAppToken('alice'), hubPort: String(local.stack.hubPort) })
    await page.goto(`${site?.url}/?${query}`)
    // Publish until the channel is attached and the first message shows (an attach takes a moment after mount).
    const deadline = Date.now() + 10_000
    while (Date.now() < deadline && (await page.$$('#messages li')).length === 0) {
      await server.publishMessage('alice', 'c1', {
        contactId: 'c1',
        userId: 'alice',
        phoneNumberId: 'pn1',
        message: 'hello react',
        direction: 'inbound',
        timestamp: new Date().toISOString(),
      })
      await page.waitForSelector('#messages li', { timeout: 500 }).catch(() => {})
    }
    expect(await page.$$eval('#messages li', (items) => items.map((item) => item.textContent))).toContain('hello react')
    expect(tokenRequests).toBe(1)
    expect(errors).toEqual([])
  })
})
