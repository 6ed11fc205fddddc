/**
 * The demo `npm start` serves at `/`: a plain page over the browser client, and dev-only routes it needs (an app
 * session for a demo user, stopping and starting the hub). Those routes answer loopback callers only, from the
 * page's own origin on a loopback host name; they exist in the local stack alone, never in the API app.
 */
import { readFile } from 'node:fs/promises'
import { getConnInfo } from '@hono/node-server/conninfo'
import type { Context, MiddlewareHandler } from 'hono'
import { Hono } from 'hono/tiny'
import type { AblyRest } from '../../ably-rest/index.ts'
import type { AppEnv } from '../../app-env.ts'
import { isValidId } from '../../channels/index.ts'
import type { AblyConnectionOptions } from '../../client/index.ts'
import { AppError } from '../../errors/index.ts'
import { renderError } from '../../errors/render.ts'
import type { Hub } from '../../hub/index.ts'
import { requestIds } from '../../middleware/request-id/index.ts'
import { securityHeaders } from '../../middleware/security-headers/index.ts'
import { presenceOf } from '../../presence/index.ts'
import { bundleForBrowser } from '../browser-bundle.ts'

export interface DemoSiteOptions {
  /** The hub, when the stack runs one; the page then connects to it and offers to stop and start it. */
  hub: Hub | undefined
  /**
   * Mints an app JWT; undefined turns every dev-only route off (the login and the hub controls answer 404, and the
   * page asks for a pasted JWT).
   */
  mintSession: ((userId: string, ttlSec: number) => Promise<string>) | undefined
  /** Ably's REST API (or the hub's), for the page's "Online" list; with the dev login only. */
  ably?: AblyRest | undefined
}

/** What the page reads from `/demo/config.json`. */
export interface DemoConfig {
  /** ably-js connection options; empty for real Ably. */
  ably: AblyConnectionOptions
  devLogin: boolean
  hubControl: boolean
}

const DIR = new URL('./', import.meta.url)
const LOOPBACK_ADDRESS = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/
const LOOPBACK_HOST = new Set(['localhost', '127.0.0.1', '[::1]'])
const MAX_ONLINE_IDS = 20
const SESSION_TTL_SEC = { min: 5, max: 86_400, default: 3600 }
const ABLY_ORIGINS = ['*.ably.io', '*.ably.net', '*.ably-realtime.com'].flatMap((host) => [`https://${host}`, `wss://${host}`])

/** The demo's routes, to serve beside the API. */
export function demoSite({ hub, mintSession, ably }: DemoSiteOptions): Hono<AppEnv> {
  const page = readFile(new URL('index.html', DIR), 'utf8')
  const styles = readFile(new URL('demo.css', DIR), 'utf8')
  let script: Promise<string> | undefined

  const config = (): DemoConfig => ({
    ably: hub?.port === undefined ? {} : { endpoint: 'localhost', port: hub.port, tls: false, disconnectedRetryTimeout: 3000, suspendedRetryTimeout: 5000 },
    devLogin: mintSession !== undefined,
    hubControl: hub !== undefined && mintSession !== undefined,
  })
  const contentSecurityPolicy = () => {
    const realtime = hub?.port === undefined ? ABLY_ORIGINS : [`ws://localhost:${hub.port}`, `http://localhost:${hub.port}`]
    return `default-src 'self'; connect-src 'self' ${realtime.join(' ')}; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`
  }

  const devOnly = devRoute(mintSession !== undefined)
  const hubControl = async (c: Context<AppEnv>, change: (running: Hub) => Promise<void>) => {
    if (!hub) throw new AppError('not_found')
    await change(hub)
    return c.json({ hub: hub.port === undefined ? 'stopped' : 'running' })
  }

  return (
    new Hono<AppEnv>()
      .use(requestIds(), securityHeaders())
      .get('/', async (c) => c.html(await page, 200, { 'Content-Security-Policy': contentSecurityPolicy(), 'Cache-Control': 'no-cache' }))
      .get('/demo.css', async (c) => c.body(await styles, 200, { 'Content-Type': 'text/css; charset=utf-8', 'Cache-Control': 'no-cache' }))
      .get('/demo.js', async (c) => {
        // Bundled on first request; a failed build is retried on the next one.
        script ??= bundleForBrowser('src/local/demo/main.ts').catch((error: unknown) => {
          script = undefined
          throw error
        })
        return c.body(await script, 200, { 'Content-Type': 'text/javascript; charset=utf-8', 'Cache-Control': 'no-cache' })
      })
      .get('/demo/config.json', (c) => c.json(config()))
      .post('/dev/session', devOnly(), async (c) => {
        if (!mintSession) throw new AppError('not_found')
        const { userId, ttlSec = SESSION_TTL_SEC.default } = (await c.req.json().catch(() => ({}))) as { userId?: unknown; ttlSec?: unknown }
        if (!isValidId(userId)) throw new AppError('invalid_request', { message: 'userId must be 1–64 letters, digits, "_" or "-".' })
        if (typeof ttlSec !== 'number' || !Number.isInteger(ttlSec) || ttlSec < SESSION_TTL_SEC.min || ttlSec > SESSION_TTL_SEC.max) {
          throw new AppError('invalid_request', { message: `ttlSec must be a whole number from ${SESSION_TTL_SEC.min} to ${SESSION_TTL_SEC.max}.` })
        }
        const token = await mintSession(userId, ttlSec)
        c.header('Cache-Control', 'no-store')
        return c.json({ userId, token, expiresAt: new Date(Date.now() + ttlSec * 1000).toISOString() })
      })
      // Who of the demo users is online: what an app's backend learns from `isOnline` (the admin route needs an admin JWT).
      .post('/dev/online', devOnly(), async (c) => {
        if (!mintSession || !ably) throw new AppError('not_found')
        const { userIds } = (await c.req.json().catch(() => ({}))) as { userIds?: unknown }
        if (!Array.isArray(userIds) || userIds.length === 0 || userIds.length > MAX_ONLINE_IDS)
          throw new AppError('invalid_request', { message: `userIds must list 1 to ${MAX_ONLINE_IDS} user ids.` })
        c.header('Cache-Control', 'no-store')
        return c.json({ users: await presenceOf(ably, userIds.map(String)) })
      })
      .post('/dev/hub/stop', devOnly(), (c) => hubControl(c, (running) => running.close()))
      .post('/dev/hub/start', devOnly(), (c) => hubControl(c, async (running) => void (running.port === undefined && (await running.listen()))))
      .notFound((c) => renderError(c, new AppError('not_found')))
      .onError((error, c) => renderError(c, error instanceof AppError ? error : new AppError('internal_error', { cause: error })))
  )
}

/**
 * The one guard of every dev-only route: it exists only when the stack allows dev routes (its own generated JWT
 * secret, or `DEV_LOGIN=true`), and answers only from loopback, same-origin on a loopback host name (no CSRF, no DNS
 * rebinding), JSON.
 */
function devRoute(enabled: boolean): () => MiddlewareHandler<AppEnv> {
  return () =>
    async function devOnly(c, next) {
      if (!enabled) throw new AppError('not_found')
      const url = new URL(c.req.url)
      if (!LOOPBACK_ADDRESS.test(getConnInfo(c).remote.address ?? '')) throw new AppError('not_found')
      const origin = c.req.header('origin')
      if (!LOOPBACK_HOST.has(url.hostname) || (origin !== undefined && origin !== url.origin)) throw new AppError('forbidden')
      if (c.req.header('content-type')?.split(';')[0]?.trim().toLowerCase() !== 'application/json') throw new AppError('unsupported_media_type')
      await next()
    }
}
