// What a browser that cannot open a WebSocket sees against the hub (issue 17, item 8): ably-js's browser build
// falls back to long-polling (comet), which the hub does not serve; the connection fails at once with a clear reason.
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { chromium } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { keyString, ROOT_KEY, useHub } from './helpers.ts'

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium'
const hasChromium = existsSync(CHROMIUM)
if (!hasChromium && process.env.CI) throw new Error(`The browser suite must run in CI, but ${CHROMIUM} is missing.`)

describe('long-polling', () => {
  const fixture = useHub()

  it('answers the comet transport with a 404 that names WebSocket as the only transport', async () => {
    const response = await fixture.fetch('/comet/connect?format=json&v=6')
    expect(response.status).toBe(404)
    expect(await response.json()).toMatchObject({ error: { code: 40400, statusCode: 404, message: expect.stringContaining('WebSocket') } })
  })

  it.skipIf(!hasChromium)(
    'fails a browser without WebSocket at once, with that reason and no retries',
    async () => {
      const cometRequests = () => fixture.logs.filter((line) => line.event === 'hub.rest.error' && line.path === '/comet/connect').length
      const before = cometRequests()
      const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] })
      try {
        const page = await browser.newPage()
        await page.setContent('<!doctype html><title>no websocket</title>')
        // As behind a proxy that blocks WebSocket: ably-js then has only its long-polling transport.
        await page.evaluate(() => Object.defineProperty(window, 'WebSocket', { value: undefined }))
        await page.addScriptTag({ content: await readFile('node_modules/ably/build/ably.js', 'utf8') })
        const outcome = await page.evaluate(
          ({ port, key }) =>
            new Promise<{ states: string[]; code?: number; message?: string }>((resolve) => {
              type Change = { current: string; reason?: { code: number; message: string } }
              const Ably = (
                window as unknown as { Ably: { Realtime: new (options: object) => { connection: { on(listener: (change: Change) => void): void } } } }
              ).Ably
              const client = new Ably.Realtime({ key, endpoint: 'localhost', port, tls: false, logLevel: 0 })
              const states: string[] = []
              client.connection.on((change) => {
                states.push(change.current)
                if (change.current === 'failed') resolve({ states, code: change.reason?.code, message: change.reason?.message })
              })
            }),
          { port: fixture.port, key: keyString(ROOT_KEY) },
        )
        expect(outcome).toMatchObject({ states: ['connecting', 'failed'], code: 40400, message: expect.stringContaining('WebSocket') })
        await new Promise((resolve) => setTimeout(resolve, 500))
        expect(cometRequests() - before).toBe(1)
      } finally {
        await browser.close()
      }
    },
    20_000,
  )
})
