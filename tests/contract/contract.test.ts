/** The wire contract holds: every body the app sends, success or error, parses with its schema from src/contract. */
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { describe, expect, expectTypeOf, it } from 'vitest'
import type { z } from 'zod'
import {
  BatchPublishResponse,
  ErrorBody,
  HealthResponse,
  type HistoryQuery,
  HistoryResponse,
  PresenceResponse,
  PublishRequest,
  PublishResponse,
  StatsResponse,
  TokenResponse,
} from '../../src/contract/index.ts'
import { createGateway } from '../../src/gateway/index.ts'
import { parseGatewayConfig } from '../../src/gateway/config.ts'
import { healthRoutes } from '../../src/health/routes.ts'
import { presenceRoutes } from '../../src/routes/presence.ts'
import { createMemoryStore } from '../../src/store/memory.ts'
import { errorCodes, errorStatus, type ErrorCode } from '../../src/errors/index.ts'
import type { PublishResult } from '../../src/server/index.ts'
import type { HistoryRequest } from '../../src/client/index.ts'
import { ably400, ablyDown, faultyStore, gatewayApp, ownMessages, publish, scriptedAbly } from '../gateway/support.ts'
import { appToken, bearer, fakeAbly, testApp } from '../support/fixtures.ts'

const root = join(import.meta.dirname, '../..')

/** Parses `body` with `schema`, refusing keys the schema does not name. */
function holds(schema: z.ZodObject, body: unknown) {
  const result = schema.strict().safeParse(body)
  expect(result.error?.issues ?? [], JSON.stringify(body)).toEqual([])
}

describe('wire contract', () => {
  it('token: the 200 body is a TokenResponse', async () => {
    const res = await testApp().app.request('/api/ably/token', { method: 'POST', headers: bearer(await appToken()) })
    expect(res.status).toBe(200)
    holds(TokenResponse, await res.json())
  })

  it('stats: healthy (200) and unhealthy (503) bodies are StatsResponses', async () => {
    const healthy = await testApp().app.request('/api/ably/stats?channelName=contacts:alice', { headers: bearer(await appToken()) })
    expect(healthy.status).toBe(200)
    holds(StatsResponse, await healthy.json())
    const down = testApp({ ably: fakeAbly({ time: () => Promise.reject(new Error('unreachable')) }) })
    const unhealthy = await down.app.request('/api/ably/stats')
    expect(unhealthy.status).toBe(503)
    holds(StatsResponse, await unhealthy.json())
  })

  it('health: anonymous and admin bodies, healthy and unhealthy, are HealthResponses', async () => {
    const admin = bearer(await appToken({ userId: 'ops', role: 'admin' }))
    for (const failing of [false, true]) {
      const { store, state } = faultyStore(createMemoryStore())
      if (failing) state.failing.add('*')
      const ably = fakeAbly()
      const gateway = createGateway({ store, config: parseGatewayConfig({}), ably, log: () => {} })
      const { app } = testApp({ ably, routes: [healthRoutes(gateway)] })
      for (const headers of [{}, admin]) {
        const res = await app.request('/api/ably/health', { headers })
        expect(res.status).toBe(failing ? 503 : 200)
        holds(HealthResponse, await res.json())
      }
    }
  })

  it('presence: the admin answer is a PresenceResponse', async () => {
    const res = await testApp({ routes: [presenceRoutes] }).app.request('/api/ably/presence?userIds=alice,bob', {
      headers: bearer(await appToken({ userId: 'ops', role: 'admin' })),
    })
    expect(res.status).toBe(200)
    holds(PresenceResponse, await res.json())
  })

  it('publish: single published (200) and queued (202) bodies are PublishResponses', async () => {
    const [message] = ownMessages()
    expect(PublishRequest.safeParse(message).success).toBe(true)
    const published = await publish(gatewayApp().app, message)
    expect(published.status).toBe(200)
    holds(PublishResponse, published.body)
    const queued = await publish(gatewayApp({ ably: scriptedAbly([ablyDown(), ablyDown(), ablyDown(), ablyDown()]) }).app, message)
    expect(queued.status).toBe(202)
    holds(PublishResponse, queued.body)
  })

  it('publish: a batch body, with a refused message among them, is a BatchPublishResponse', async () => {
    const batch = { messages: ownMessages() }
    expect(PublishRequest.safeParse(batch).success).toBe(true)
    const { status, body } = await publish(gatewayApp({ ably: scriptedAbly([ably400()]) }).app, batch)
    expect(status).toBe(200)
    holds(BatchPublishResponse, body)
    expect(BatchPublishResponse.parse(body).results.map((result) => result.code)).toContain('publish_rejected')
  })

  it('history: a page with a next cursor is a HistoryResponse', async () => {
    const { app } = gatewayApp()
    for (let n = 0; n < 3; n += 1) await publish(app, ownMessages()[1])
    const res = await app.request('/api/ably/history?channelName=contacts:alice&limit=2', { headers: bearer(await appToken()) })
    const body = HistoryResponse.parse(await res.json())
    holds(HistoryResponse, body)
    expect(body.next).not.toBeNull()
  })

  it('every error the routes render is an ErrorBody with a known code', async () => {
    const { app } = gatewayApp({ env: { PUBLISH_RATE_LIMIT: '1' } })
    const faulty = faultyStore()
    faulty.state.failing.add('*')
    const storeDown = gatewayApp({ store: faulty.store }).app
    const token = await appToken()
    const json = async (res: Response | Promise<Response>) => {
      const answer = await res
      return { status: answer.status, body: (await answer.json()) as unknown }
    }
    const cases: [status: number, send: () => Promise<{ status: number; body: unknown }>][] = [
      [400, () => json(app.request('/api/ably/history?limit=2', { headers: bearer(token) }))],
      [401, () => json(app.request('/api/ably/publish', { method: 'POST' }))],
      [403, () => publish(app, ownMessages('bob')[0])],
      [404, () => json(app.request('/api/ably/nothing-here'))],
      [405, () => json(app.request('/api/ably/history', { method: 'DELETE', headers: bearer(token) }))],
      [415, () => publish(app, ownMessages()[0], { headers: { 'Content-Type': 'text/plain' } })],
      [400, () => publish(app, undefined, { raw: '{"channelName":' })],
      [503, () => publish(storeDown, ownMessages()[0])],
      [
        422,
        async () => {
          const fresh = gatewayApp().app
          await publish(fresh, ownMessages()[1], { headers: { 'Idempotency-Key': 'k1' } })
          return publish(fresh, ownMessages()[2], { headers: { 'Idempotency-Key': 'k1' } })
        },
      ],
      [
        429,
        async () => {
          await publish(app, ownMessages()[1])
          return publish(app, ownMessages()[1])
        },
      ],
    ]
    for (const [expected, send] of cases) {
      const { status, body } = await send()
      expect(status, JSON.stringify(body)).toBe(expected)
      holds(ErrorBody, body)
    }
    const invalid = await publish(app, { channelName: 'contacts:alice', eventName: 'update', data: { action: 'refresh' }, extra: 1 })
    expect(invalid.status).toBe(400)
    holds(ErrorBody, invalid.body)
    expect(ErrorBody.parse(invalid.body).details).toEqual({ fields: ['extra'] })
  })

  it('the inferred types are the ones the code uses', () => {
    expectTypeOf<ErrorBody['code']>().toEqualTypeOf<ErrorCode>()
    expectTypeOf<PublishResult>().toExtend<PublishResponse>()
    expectTypeOf<HistoryRequest>().toEqualTypeOf<z.output<typeof HistoryQuery>>()
    expectTypeOf<z.input<typeof HistoryQuery>['limit']>().toEqualTypeOf<string | undefined>()
  })

  it('the error code union is the table of codes, and an unknown code is refused', () => {
    expect(ErrorBody.shape.code.options).toEqual(errorCodes)
    expect(ErrorBody.safeParse({ error: 'x', code: 'no_such_code', requestId: 'r' }).success).toBe(false)
  })
})

describe('the error vocabulary', () => {
  const sources = (readdirSync(join(root, 'src'), { recursive: true, encoding: 'utf8' }) as string[])
    .filter((file) => file.endsWith('.ts') && !file.startsWith('errors/') && !file.startsWith('contract/'))
    .map((file) => readFileSync(join(root, 'src', file), 'utf8'))
    .join('\n')
  const readme = readFileSync(join(root, 'README.md'), 'utf8')
  const table = readme.slice(readme.indexOf('| Code | Status | When |')).split('\n\n')[0] ?? ''
  const documented = [...table.matchAll(/^\| `([a-z_]+)` \| (\d{3}) \|/gm)].map(([, code, status]) => [code, Number(status)])

  it.each(errorCodes)('%s is raised somewhere in src', (code) => {
    expect(sources).toMatch(new RegExp(`AppError\\('${code}'|'${code}'`))
  })

  it('the README documents exactly the codes of the table, each with its status', () => {
    expect(Object.fromEntries(documented)).toEqual(errorStatus)
  })
})

describe('the browser client', () => {
  /** Every relative import of `file` and, transitively, of what it imports, with whether it is type-only. */
  function importsOf(file: string, seen = new Map<string, boolean>()): Map<string, boolean> {
    const text = readFileSync(file, 'utf8')
    for (const [, typeOnly, specifier] of text.matchAll(/^(?:import|export)\s+(type\s+)?[^'"]*?from\s+'(\.[^']+)'/gm)) {
      const target = join(dirname(file), specifier as string)
      const key = relative(root, target)
      const known = seen.get(key)
      seen.set(key, (known ?? true) && typeOnly !== undefined)
      if (known === undefined && typeOnly === undefined) importsOf(target, seen)
    }
    return seen
  }

  it('imports nothing from routes, gateway, store or hub, and the contract as types only', () => {
    const imports = importsOf(join(root, 'src/client/index.ts'))
    const files = [...imports.keys()]
    expect(files.filter((file) => /^src\/(routes|gateway|store|hub|server|auth|wiring)\//.test(file))).toEqual([])
    expect(files).toContain('src/contract/index.ts')
    expect(imports.get('src/contract/index.ts')).toBe(true)
  })
})
