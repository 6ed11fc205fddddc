import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MessageData } from '../../src/channels/schemas.ts'
import { serverHelpersFor, type ServerHelpers } from '../../src/server/helpers.ts'
import { mintAppToken } from '../../src/local/mint-app-token.ts'
import { useLocalStack } from '../support/local-stack.ts'

// The demo that `npm start` serves, driven in Debian's Chromium against the whole stack on ephemeral loopback ports.
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium'
const ARTIFACTS = 'test-artifacts'
const hasChromium = existsSync(CHROMIUM)
if (!hasChromium && process.env.CI) throw new Error(`The browser suite must run in CI, but ${CHROMIUM} is missing: .ci/run installs Debian's chromium package.`)
if (!hasChromium) console.warn(`Skipping the browser suite: ${CHROMIUM} is absent (apt-get install chromium). CI always runs it.`)

const local = useLocalStack({ sweepIntervalMs: 300 }, { enabled: hasChromium })
let server: ServerHelpers
let browser: Browser

beforeAll(async () => {
  if (!hasChromium) return
  const { stack } = local
  // The server helpers over the stack's own gateway, as the app's backend would publish.
  server = serverHelpersFor(stack.gateway, stack.ablyRest)
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  })
})
afterAll(async () => {
  await browser?.close()
  await server?.close()
})

/** Presence messages a page sent (enter, leave) and was sent (PRESENCE and SYNC frames), counted off its WebSocket. */
interface PresenceTraffic {
  sent: number
  received: number
}
const PRESENCE_ACTION = 14
const SYNC_ACTION = 16

/** A fresh browser profile on the demo, signed in as `userId`; counts its token requests and presence messages. */
async function signedIn(
  userId: 'alice' | 'bob',
  session: 'hour' | 'short' = 'hour',
): Promise<{ page: Page; tokenRequests(): number; presence: PresenceTraffic }> {
  const page = await (await browser.newContext()).newPage()
  let tokenRequests = 0
  const presence: PresenceTraffic = { sent: 0, received: 0 }
  const count = (payload: string | Buffer, key: keyof PresenceTraffic) => {
    const frame = JSON.parse(String(payload)) as { action?: number; presence?: unknown[] }
    if (frame.action === PRESENCE_ACTION || frame.action === SYNC_ACTION) presence[key] += frame.presence?.length ?? 0
  }
  page.on('websocket', (socket) => {
    socket.on('framesent', ({ payload }) => count(payload, 'sent'))
    socket.on('framereceived', ({ payload }) => count(payload, 'received'))
  })
  page.on('request', (request) => {
    if (new URL(request.url()).pathname === '/api/ably/token') tokenRequests += 1
  })
  page.on('pageerror', (error) => console.error(`page error (${userId}): ${error.message}`))
  await page.goto(`${local.stack.url}/`)
  await page.selectOption('#user', userId)
  await page.selectOption('#ttl', session === 'hour' ? '3600' : '10')
  await page.click('#sign-in')
  await page.waitForSelector('#state[data-state=connected]')
  return { page, tokenRequests: () => tokenRequests, presence }
}

/** Waits until the server's `isOnline` says `expected`. */
async function onlineBecomes(expected: Record<string, boolean>, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs
  let seen: Record<string, boolean> = {}
  while (Date.now() < deadline) {
    seen = await server.isOnline(Object.keys(expected))
    if (JSON.stringify(seen) === JSON.stringify(expected)) return
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  expect(seen).toEqual(expected)
}

async function send(page: Page, text: string, status: 'published' | 'queued') {
  await page.fill('#text', text)
  await page.click('#send button[type=submit]')
  await page.waitForSelector(`#events li:has-text("${status === 'queued' ? 'the gateway stored it' : 'Sent and published'}")`)
}

/** The messages on screen, as text with how many times the client delivered each (0: it came with the page load). */
const shown = (page: Page) =>
  page.$$eval('#messages li', (items) => items.map((item) => `${item.querySelector('p')?.textContent} ×${(item as HTMLElement).dataset.deliveries}`))

const sms = (userId: string, contactId: string, message: string): MessageData => ({
  contactId,
  userId,
  phoneNumberId: 'pn1',
  message,
  direction: 'inbound',
  timestamp: new Date().toISOString(),
})

describe.skipIf(!hasChromium)('the demo in Chromium', () => {
  // First in the file: a page closed by another test could still linger in presence for 15 s.
  it('presence: two pages of alice and one of bob; isOnline flips as they connect and sign out, at two messages a page', async () => {
    await onlineBecomes({ alice: false, bob: false })
    const alice1 = await signedIn('alice')
    await onlineBecomes({ alice: true, bob: false })
    const [alice2, bob] = await Promise.all([signedIn('alice'), signedIn('bob')])
    await onlineBecomes({ alice: true, bob: true })
    // The demo's own "Online" list, from the same presence.
    await alice1.page.waitForSelector('#online li[data-user=alice][data-connections="2"]')
    await alice1.page.waitForSelector('#online li[data-user=bob][data-online=true]')

    await alice1.page.click('#sign-out')
    await onlineBecomes({ alice: true, bob: true })
    await alice2.page.click('#sign-out')
    await onlineBecomes({ alice: false, bob: true })
    await bob.page.click('#sign-out')
    await onlineBecomes({ alice: false, bob: false })

    // The cost: one enter and one leave per page session, and nothing sent to the pages (no presence-subscribe mode).
    for (const { presence } of [alice1, alice2, bob]) expect(presence).toEqual({ sent: 2, received: 0 })
    await Promise.all([alice1, alice2, bob].map(({ page }) => page.context().close()))
  })

  it('presence: a page that vanishes without signing out stays online about 15 s (Ably’s grace for a lost connection)', async () => {
    const bob = await signedIn('bob')
    await onlineBecomes({ bob: true })
    // The renderer dies: the socket drops with no CLOSE, as when a laptop sleeps or a network goes.
    await bob.page.goto('chrome://crash').catch(() => {})
    const lost = Date.now()
    await onlineBecomes({ bob: true }, 1000)
    await onlineBecomes({ bob: false }, 25_000)
    const lingeredMs = Date.now() - lost
    console.log(`presence lag after an abrupt disconnect: ${lingeredMs} ms`)
    expect(lingeredMs).toBeGreaterThanOrEqual(14_000)
    await bob.page.context().close()
  }, 40_000)

  it('two users in two pages each see only their own messages', async () => {
    const [alice, bob] = await Promise.all([signedIn('alice'), signedIn('bob')])
    await send(alice.page, 'from alice', 'published')
    await send(bob.page, 'from bob', 'published')
    await server.publishMessage('bob', 'c1', sms('bob', 'c1', 'for bob only'))

    await bob.page.waitForSelector('#messages li:has-text("for bob only")')
    expect(await shown(alice.page)).toEqual(['from alice ×1'])
    expect(await shown(bob.page)).toEqual(['from bob ×1', 'for bob only ×1'])
    await Promise.all([alice.page.context().close(), bob.page.context().close()])
  })

  it('a message sent by the server appears live, and counts as unread in another conversation', async () => {
    const { page } = await signedIn('alice')
    await server.publishMessage('alice', 'c1', sms('alice', 'c1', 'server says hi'))
    await page.waitForSelector('#messages li[data-source=live]:has-text("server says hi")')
    await server.publishMessage('alice', 'c2', sms('alice', 'c2', 'elsewhere'))
    await page.waitForSelector('#conversations [data-contact=c2] .badge:text("1")')
    await page.context().close()
  })

  it('after the hub restarts, messages sent meanwhile appear exactly once', async () => {
    const { page } = await signedIn('bob')
    await page.click('#hub-stop')
    await page.waitForSelector('#state:not([data-state=connected])')
    await send(page, 'sent while the hub was down', 'queued')
    await server.publishMessage('bob', 'c1', sms('bob', 'c1', 'server, while down'))

    await page.click('#hub-start')
    await page.waitForSelector('#state[data-state=connected]')
    await page.waitForSelector('#messages li:has-text("server, while down")')
    await page.waitForSelector('#messages li:has-text("sent while the hub was down")')
    // Long enough for the sweeper (300 ms) to have handed everything to the hub, and any copy to arrive.
    await page.waitForTimeout(1500)

    const after = await shown(page)
    expect(after.filter((line) => line.includes('while'))).toEqual(['sent while the hub was down ×1', 'server, while down ×1'])
    expect(after.every((line) => /×[01]$/.test(line))).toBe(true)
    await mkdir(ARTIFACTS, { recursive: true })
    await page.screenshot({ path: join(ARTIFACTS, 'demo.png'), fullPage: true })
    await page.context().close()
  })

  it('an expired app session shows the unauthorized state, and no storm of token requests', async () => {
    const { page, tokenRequests } = await signedIn('alice', 'short')
    await page.waitForSelector('#state[data-state=unauthorized]', { timeout: 30_000 })
    expect(await page.textContent('#state-detail')).toContain('Sign in again')
    const atUnauthorized = tokenRequests()
    await page.waitForTimeout(3000)
    expect(tokenRequests()).toBe(atUnauthorized)
    // A 10 s session: the first token, a refresh or two as it nears its end, and the refused one.
    expect(atUnauthorized).toBeLessThanOrEqual(6)
    await page.context().close()
  }, 60_000)

  it('a pasted JWT that is junk, or signed with another secret, ends in one clear signed-out state', async () => {
    const own = 'set-by-the-user-0123456789-abcdefghijklmnopq'
    const other = await local.startAnother({ env: { JWT_SECRET: own } })
    const page = await (await browser.newContext()).newPage()
    try {
      await page.goto(`${other.url}/`)
      const events = () => page.$$eval('#events li', (items) => items.map((item) => item.textContent ?? ''))
      const attempts: [string, RegExp][] = [
        ['not-a-jwt', /Sign-in refused: that is not an app JWT/],
        [
          await mintAppToken('another-secret-0123456789-abcdefghijklmnopqr', { userId: 'alice' }),
          /Sign-in refused: the API refused this app JWT: it is invalid or expired/,
        ],
      ]
      for (const [pasted, refusal] of attempts) {
        await page.evaluate(() => document.getElementById('events')?.replaceChildren())
        await page.fill('#jwt', pasted)
        await page.click('#sign-in')
        await page.waitForSelector('#state[data-state=unauthorized]')
        await page.waitForTimeout(1500)
        const lines = await events()
        expect(lines).toHaveLength(1)
        expect(lines[0]).toMatch(refusal)
        expect(await page.textContent('#who')).toBe('Not signed in')
        expect(await page.textContent('#state-detail')).toMatch(refusal)
      }
      await page.fill('#jwt', await mintAppToken(own, { userId: 'alice' }))
      await page.click('#sign-in')
      await page.waitForSelector('#state[data-state=connected]')
      expect(await page.textContent('#who')).toBe('Signed in as alice')
    } finally {
      await page.context().close()
      await other.close()
    }
  }, 30_000)
})
