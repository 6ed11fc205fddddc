/**
 * `JWT_COOKIE` in Chromium: the README's no-code form, `new Ably.Realtime({ authUrl: '/api/ably/token' })`, on a page
 * the local stack serves, with the app JWT in an HttpOnly cookie. The real ably-js browser build makes its own
 * authUrl request; the browser decides what the cookie goes with and what a cross-origin page may read.
 */
import { createRequire } from 'node:module'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { dirname, join } from 'node:path'
import type * as AblyTypes from 'ably'
import { SignJWT } from 'jose'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { conversationChannel } from '../../src/channels/index.ts'
import { mintAppToken } from '../../src/local/mint-app-token.ts'
import { serverHelpersFor, type ServerHelpers } from '../../src/server/helpers.ts'
import { hasChromium, launchChromium } from '../support/chromium.ts'
import { useLocalStack } from '../support/local-stack.ts'

const COOKIE = 'session'
/** How `fetch` reports an answer the browser keeps from the page (CORS or CORP). */
const FAILED = 'TypeError: Failed to fetch'
const SECRET = 'cookie-token-browser-test-0123456789-abcdefgh'
/** ably-js's own browser build (UMD: sets `window.Ably`; package.json's `browser` file), beside the Node build `ably` resolves to here. */
const ABLY_BROWSER_BUILD = join(dirname(createRequire(import.meta.url).resolve('ably')), 'ably.js')

const local = useLocalStack({ env: { JWT_SECRET: SECRET, JWT_COOKIE: COOKIE } }, { enabled: hasChromium })
let browser: Browser
let server: ServerHelpers
/** A second loopback origin: a page that is not the app's. */
let elsewhere: { server: Server; port: number }

beforeAll(async () => {
  if (!hasChromium) return
  server = serverHelpersFor(local.stack.gateway, local.stack.ablyRest)
  browser = await launchChromium()
  const other = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>another site</title>'))
  await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve))
  elsewhere = { server: other, port: (other.address() as AddressInfo).port }
})
afterAll(async () => {
  await browser?.close()
  await server?.close()
  await new Promise((resolve) => (elsewhere ? elsewhere.server.close(resolve) : resolve(undefined)))
})

interface TokenAnswer {
  status: number
  body: { token?: string; clientId?: string; code?: string } | undefined
  allowOrigin: string | null
  cookieSent: boolean
}

/**
 * A fresh browser profile whose cookie jar holds `session=<cookie>` for the stack's origin, as an app's login would
 * set it (HttpOnly, SameSite=Lax); the ably-js browser build is on every page it opens. Records each request to the
 * token route and its answer.
 */
async function profile(cookie: string | undefined): Promise<{ context: BrowserContext; tokenAnswers(): Promise<TokenAnswer[]>; tokenRequests(): number }> {
  const context = await browser.newContext()
  if (cookie !== undefined) await context.addCookies([{ name: COOKIE, value: cookie, url: local.stack.url, httpOnly: true, sameSite: 'Lax' }])
  // An init script, so the page's own Content-Security-Policy stays as the stack serves it.
  await context.addInitScript({ path: ABLY_BROWSER_BUILD })
  let tokenRequests = 0
  const answers: Promise<TokenAnswer>[] = []
  const isToken = (url: string) => new URL(url).pathname === '/api/ably/token'
  context.on('request', (request) => {
    if (isToken(request.url())) tokenRequests += 1
  })
  context.on('response', (response) => {
    if (!isToken(response.url())) return
    // Read at once, and never rejected: a test that closes its context without awaiting the answers (it asserts on
    // something else) must not leave an unhandled rejection behind. A test that asserts on them awaits them first.
    answers.push(
      (async () => ({
        status: response.status(),
        body: await response.json().catch(() => undefined),
        allowOrigin: await response.headerValue('access-control-allow-origin').catch(() => null),
        cookieSent: (
          (
            await response
              .request()
              .allHeaders()
              .catch(() => ({}) as Record<string, string>)
          ).cookie ?? ''
        )
          .split(/;\s*/)
          .some((pair) => pair.startsWith(`${COOKIE}=`)),
      }))(),
    )
  })
  return { context, tokenAnswers: () => Promise.all(answers), tokenRequests: () => tokenRequests }
}

/** Opens the page the stack serves at `/` (same origin as the token route). */
async function appPage(context: BrowserContext): Promise<Page> {
  const page = await context.newPage()
  page.on('pageerror', (error) => console.error(`page error: ${error.message}`))
  await page.goto(`${local.stack.url}/`)
  return page
}

/** What the page's scripts see: ably-js's browser build, and the client `connect` made. */
type PageWindow = Window & { Ably: typeof AblyTypes; client: AblyTypes.Realtime }

interface Outcome {
  state: string
  clientId: string | undefined
  error: { code: number; statusCode: number } | undefined
}

/**
 * In the page: the README's no-code form, with the hub's endpoint options the stack publishes for its demo
 * (`/demo/config.json`; empty against real Ably). Resolves once the connection is `connected` or `failed`.
 */
function connect(page: Page): Promise<Outcome> {
  return page.evaluate(async () => {
    const { ably: endpoint } = (await (await fetch('/demo/config.json')).json()) as { ably: Record<string, unknown> }
    const scope = window as unknown as PageWindow
    const client = new scope.Ably.Realtime({ authUrl: '/api/ably/token', ...endpoint })
    scope.client = client
    // The first state past `connecting`: a retrying client (disconnected, suspended) shows as such, not as a timeout.
    const settled = ['connected', 'failed', 'disconnected', 'suspended'] as const
    await new Promise<void>((resolve) => {
      if ((settled as readonly string[]).includes(client.connection.state)) return resolve()
      client.connection.on([...settled], () => resolve())
    })
    const reason = client.connection.errorReason
    return {
      state: client.connection.state,
      clientId: client.auth.clientId,
      error: reason ? { code: reason.code, statusCode: reason.statusCode } : undefined,
    }
  })
}

/** The app JWT of the stack's secret, expired `agoSec` seconds ago. */
async function expiredToken(userId: string, agoSec: number): Promise<string> {
  const now = Math.floor(Date.now() / 1000)
  return new SignJWT({ userId, role: 'user' })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt(now - 3600)
    .setExpirationTime(now - agoSec)
    .sign(new TextEncoder().encode(SECRET))
}

describe.runIf(hasChromium)('JWT_COOKIE in Chromium: authUrl with the app JWT in a cookie', () => {
  it('connects as the user with no code: receives a server message on its own channel, 40160 on another user’s', async () => {
    const { context, tokenAnswers } = await profile(await mintAppToken(SECRET, { userId: 'alice' }))
    const page = await appPage(context)
    // HttpOnly: the page's own script never sees the JWT; only the browser sends it.
    expect(await page.evaluate(() => document.cookie)).toBe('')

    expect(await connect(page)).toEqual({ state: 'connected', clientId: 'alice', error: undefined })
    const answers = await tokenAnswers()
    expect(answers).toHaveLength(1)
    expect(answers[0]).toMatchObject({ status: 200, body: { clientId: 'alice' }, cookieSent: true })

    const own = conversationChannel('alice', 'c1')
    const received = page.evaluate(
      (name) =>
        new Promise<unknown>((resolve, reject) => {
          ;(window as unknown as PageWindow).client.channels
            .get(name)
            .subscribe((message) => resolve(message.data))
            .catch(reject)
        }),
      own,
    )
    // Attached before the server publishes: wait for the channel to say so.
    await page.waitForFunction((name) => (window as unknown as PageWindow).client.channels.get(name).state === 'attached', own)
    const message = 'from the server, through the gateway'
    await server.publishMessage('alice', 'c1', {
      contactId: 'c1',
      userId: 'alice',
      phoneNumberId: 'pn1',
      message,
      direction: 'inbound',
      timestamp: new Date().toISOString(),
    })
    expect(await received).toMatchObject({ userId: 'alice', contactId: 'c1', message })

    const refused = await page.evaluate(
      async (name) => {
        try {
          await (window as unknown as PageWindow).client.channels.get(name).attach()
          return 'attached'
        } catch (error) {
          return (error as { code: number }).code
        }
      },
      conversationChannel('bob', 'c1'),
    )
    expect(refused).toBe(40160)
    // The connection survives a refused attach.
    expect(await page.evaluate(() => (window as unknown as PageWindow).client.connection.state)).toBe('connected')
    await page.evaluate(() => (window as unknown as PageWindow).client.close())
    await context.close()
  })

  const refusedCookies: [string, () => Promise<string | undefined>][] = [
    ['no cookie', async () => undefined],
    ['an expired app JWT', () => expiredToken('alice', 60)],
    ['an app JWT signed with another secret', () => mintAppToken('another-secret-0123456789-abcdefghijklmnopqr', { userId: 'alice' })],
    ['a cookie that is no JWT', async () => 'not-a-jwt'],
  ]
  it.each(refusedCookies)('%s: the token route answers 403 signed_out once, and ably-js ends failed without retrying', async (_, cookie) => {
    const value = await cookie()
    const { context, tokenAnswers, tokenRequests } = await profile(value)
    const page = await appPage(context)
    const outcome = await connect(page)
    // RSA4d: a 403 from authUrl fails the connection (80019, status 403) instead of retrying.
    expect(outcome).toMatchObject({ state: 'failed', error: { code: 80019, statusCode: 403 } })
    expect(await tokenAnswers()).toEqual([
      expect.objectContaining({ status: 403, body: expect.objectContaining({ code: 'signed_out' }), cookieSent: value !== undefined }),
    ])
    // `failed` is terminal; a client that retried would ask again within the stack's 3 s disconnected retry timeout.
    await page.waitForTimeout(3500)
    expect(tokenRequests()).toBe(1)
    expect(await page.evaluate(() => (window as unknown as PageWindow).client.connection.state)).toBe('failed')
    await context.close()
  })

  // Why only the token route reads the cookie: a page of another origin can make the browser send it, but not read
  // the answer. The gateway acts on a request without anyone reading the answer, so it keeps requiring the header.
  it('another origin on the same host (same site): the cookie goes along and a token is signed, but the page cannot read it; the gateway refuses the same cookie', async () => {
    const { context } = await profile(await mintAppToken(SECRET, { userId: 'alice' }))
    const { read, wire } = await fromAnotherOrigin(context, `http://localhost:${elsewhere.port}`, local.stack.url)
    expect(read).toEqual({ GET: FAILED, POST: FAILED, noCors: FAILED, publish: FAILED })
    expect(wire).toEqual([
      // localhost:<other port> is the same site as the stack: SameSite=Lax lets the cookie go, the route signs a
      // token, and with no Access-Control-Allow-Origin for that origin the browser keeps it from the page.
      { method: 'GET', path: '/api/ably/token', cookieSent: true, cookieBlocked: [], status: 200, allowOrigin: undefined, allowCredentials: undefined },
      { method: 'POST', path: '/api/ably/token', cookieSent: true, cookieBlocked: [], status: 200, allowOrigin: undefined, allowCredentials: undefined },
      { method: 'GET', path: '/api/ably/token', cookieSent: true, cookieBlocked: [], status: 200, allowOrigin: undefined, allowCredentials: undefined },
      // A no-cors POST needs no preflight and is sent with the cookie: the gateway reads only the header, so 401.
      { method: 'POST', path: '/api/ably/publish', cookieSent: true, cookieBlocked: [], status: 401, allowOrigin: undefined, allowCredentials: undefined },
    ])
    await context.close()
  })

  it('another site (127.0.0.1): SameSite=Lax keeps the cookie at home, so the token route answers 403, unreadable too', async () => {
    const { context } = await profile(await mintAppToken(SECRET, { userId: 'alice' }))
    const { read, wire } = await fromAnotherOrigin(context, `http://127.0.0.1:${elsewhere.port}`, local.stack.url)
    expect(read).toEqual({ GET: FAILED, POST: FAILED, noCors: FAILED, publish: FAILED })
    expect(wire.map(({ method, path, cookieSent, status }) => ({ method, path, cookieSent, status }))).toEqual([
      { method: 'GET', path: '/api/ably/token', cookieSent: false, status: 403 },
      { method: 'POST', path: '/api/ably/token', cookieSent: false, status: 403 },
      { method: 'GET', path: '/api/ably/token', cookieSent: false, status: 403 },
      { method: 'POST', path: '/api/ably/publish', cookieSent: false, status: 401 },
    ])
    for (const { cookieBlocked } of wire) expect(cookieBlocked).toContain('SameSiteLax')
    await context.close()
  })

  it('an origin CORS_ORIGIN allows still cannot use the cookie: the API never sends Access-Control-Allow-Credentials', async () => {
    const origin = `http://localhost:${elsewhere.port}`
    const allowing = await local.startAnother({ env: { JWT_SECRET: SECRET, JWT_COOKIE: COOKIE, CORS_ORIGIN: origin } })
    try {
      const { context } = await profile(await mintAppToken(SECRET, { userId: 'alice' }))
      const { read, wire } = await fromAnotherOrigin(context, origin, allowing.url)
      expect(read).toMatchObject({ GET: FAILED, POST: FAILED, noCors: FAILED })
      expect(wire.slice(0, 3)).toEqual([
        { method: 'GET', path: '/api/ably/token', cookieSent: true, cookieBlocked: [], status: 200, allowOrigin: origin, allowCredentials: undefined },
        { method: 'POST', path: '/api/ably/token', cookieSent: true, cookieBlocked: [], status: 200, allowOrigin: origin, allowCredentials: undefined },
        // A no-cors GET carries no Origin header, so no CORS answer either; CORP withholds it.
        { method: 'GET', path: '/api/ably/token', cookieSent: true, cookieBlocked: [], status: 200, allowOrigin: undefined, allowCredentials: undefined },
      ])
      // Without credentials the answer is readable, and it is the signed-out refusal: the cookie stayed home.
      const page = await context.newPage()
      await page.goto(`${origin}/`)
      const plain = await page.evaluate(async (api) => {
        const res = await fetch(`${api}/api/ably/token`)
        return { status: res.status, code: ((await res.json()) as { code?: string }).code }
      }, allowing.url)
      expect(plain).toEqual({ status: 403, code: 'signed_out' })
      await context.close()
    } finally {
      await allowing.close()
    }
  })
})

/**
 * On a page of `origin`, what a script there can read of the token route (GET and POST, cookies included), and of a
 * no-cors publish to the gateway with the cookie; and what went over the wire meanwhile.
 */
async function fromAnotherOrigin(context: BrowserContext, origin: string, api: string): Promise<{ read: Record<string, string>; wire: WireExchange[] }> {
  const page = await context.newPage()
  const wire = await onTheWire(page, new URL(api).host)
  await page.goto(`${origin}/`)
  const read = await page.evaluate(async (api) => {
    const attempt = (url: string, init: RequestInit) =>
      fetch(url, { credentials: 'include', ...init }).then(
        async (res) => `read ${res.type} ${res.status} ${await res.text()}`,
        (error: unknown) => String(error),
      )
    return {
      GET: await attempt(`${api}/api/ably/token`, {}),
      POST: await attempt(`${api}/api/ably/token`, { method: 'POST' }),
      // What `<script src>` or `<img src>` would get: an opaque answer, which Cross-Origin-Resource-Policy withholds too.
      noCors: await attempt(`${api}/api/ably/token`, { mode: 'no-cors' }),
      // What a hostile page's form post amounts to: a simple request, sent without a preflight.
      publish: await attempt(`${api}/api/ably/publish`, {
        method: 'POST',
        mode: 'no-cors',
        body: JSON.stringify({ channelName: 'sms:alice:c1', eventName: 'message', data: { message: 'not from alice' } }),
      }),
    }
  }, api)
  const exchanges = await wire.settled(read)
  await page.close()
  return { read, wire: exchanges }
}

interface WireExchange {
  method: string
  path: string
  /** Whether the browser sent the `session` cookie, and why not when it held one back. */
  cookieSent: boolean
  cookieBlocked: string[]
  /** What the server answered, as it arrived, before CORS or CORP decided what the page may read. */
  status: number | undefined
  allowOrigin: string | undefined
  allowCredentials: string | undefined
}

/**
 * Every request a page sends to `/api/*` on `host`, as Chromium's network layer saw it (DevTools protocol), the ones
 * CORS keeps from the page included. The protocol's events for one request come in any order: they are joined at the end.
 */
async function onTheWire(page: Page, host: string): Promise<{ settled(attempts: Record<string, string>): Promise<WireExchange[]> }> {
  const cdp = await page.context().newCDPSession(page)
  await cdp.send('Network.enable')
  const sent = new Map<string, { method: string; path: string }>()
  const cookies = new Map<string, { sent: boolean; blocked: string[] }>()
  const answers = new Map<string, { status: number; headers: Record<string, string> }>()
  cdp.on('Network.requestWillBeSent', ({ requestId, request }) => {
    const url = new URL(request.url)
    if (url.host === host && url.pathname.startsWith('/api/') && !sent.has(requestId)) sent.set(requestId, { method: request.method, path: url.pathname })
  })
  cdp.on('Network.requestWillBeSentExtraInfo', ({ requestId, associatedCookies }) => {
    const ours = associatedCookies.filter(({ cookie }) => cookie.name === COOKIE)
    cookies.set(requestId, {
      sent: ours.some(({ blockedReasons }) => blockedReasons.length === 0),
      blocked: ours.flatMap(({ blockedReasons }) => blockedReasons),
    })
  })
  cdp.on('Network.responseReceivedExtraInfo', ({ requestId, statusCode, headers }) => answers.set(requestId, { status: statusCode, headers }))
  const header = (headers: Record<string, string> | undefined, name: string) => Object.entries(headers ?? {}).find(([key]) => key.toLowerCase() === name)?.[1]
  return {
    async settled(attempts) {
      // Every attempt has ended in the page; give the protocol's last events a moment to arrive.
      const deadline = Date.now() + 2000
      const want = Object.keys(attempts).length
      while (Date.now() < deadline && [...sent.keys()].filter((id) => answers.has(id) && cookies.has(id)).length < want) await page.waitForTimeout(50)
      await cdp.detach()
      return [...sent].map(([id, { method, path }]) => ({
        method,
        path,
        cookieSent: cookies.get(id)?.sent ?? false,
        cookieBlocked: cookies.get(id)?.blocked ?? [],
        status: answers.get(id)?.status,
        allowOrigin: header(answers.get(id)?.headers, 'access-control-allow-origin'),
        allowCredentials: header(answers.get(id)?.headers, 'access-control-allow-credentials'),
      }))
    },
  }
}
