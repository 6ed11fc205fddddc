/**
 * The provider config reader (`src/config/jwt.ts`) is loaded only when a provider variable is set (`loadConfig`), so
 * the HS256-only edge isolate never evaluates it: the secret-only reader must give exactly what the full one gives,
 * and a bad provider config must still answer the generic 500 with one `config_error` log line.
 */
import { describe, expect, it } from 'vitest'
import { bundleSplit } from '../../bench/bundle.ts'
import { lazyAblyRest } from '../../src/ably-rest/lazy.ts'
import { ConfigError, type ConfigProblem, type Env } from '../../src/config/index.ts'
import { needsProviderReader, PROVIDER_VARIABLES } from '../../src/config/jwt-secret.ts'
import { loadConfig } from '../../src/config/load.ts'
import { parseConfig } from '../../src/config/parse.ts'
import type { LogEntry } from '../../src/log/index.ts'
import { tokenRoutes } from '../../src/routes/token.ts'
import { apiHandler, lazyHandler } from '../../src/wiring/handlers.ts'
import { testEnv } from '../support/fixtures.ts'

const outcome = async (read: () => unknown) => {
  try {
    return { config: await read() }
  } catch (error) {
    if (error instanceof ConfigError) return { problems: error.problems as ConfigProblem[] }
    throw error
  }
}

const HS256_ONLY_ENVS: Env[] = [
  testEnv,
  { ...testEnv, JWT_ISSUER: 'https://login.example.com', JWT_AUDIENCE: 'realtime', JWT_MAX_AGE: '86400', JWT_COOKIE: '__session' },
  { ...testEnv, JWT_SECRET: 'short' },
  { ...testEnv, JWT_SECRET: undefined, JWT_MAX_AGE: '5', JWT_COOKIE: 'a b' },
  { ...testEnv, JWT_SECRET: ` ${testEnv.JWT_SECRET}` },
  { ...testEnv, JWT_SECRET: 'test-ably-key-secret-0123456789abcdef' },
  // Ignored without keys, by both readers.
  { ...testEnv, JWT_SECRET_ISSUER: 'https://self.example.com', JWT_ALGORITHMS: 'RS256', JWT_AUTHORIZED_PARTIES: 'https://app.example.com' },
]

const PROVIDER_ENVS: Env[] = [
  { ...testEnv, JWT_SECRET: undefined, JWT_PROVIDER: 'auth0', JWT_ISSUER: 'https://tenant.auth0.com/', JWT_AUDIENCE: 'https://api.example.com' },
  { ...testEnv, JWT_PROVIDER: 'nope' },
  { ...testEnv, JWT_ROLE_CLAIM: '/app_metadata/role' },
  { ...testEnv, JWT_MEMBERSHIP_CLAIM: '/user_metadata/teams' },
  { ...testEnv, JWT_JWKS_URL: 'http://idp.example.com/jwks.json' },
]

describe('loadConfig', () => {
  it('gives what parseConfig gives, config or problems, for HS256-only environments (the secret-only reader)', async () => {
    for (const env of HS256_ONLY_ENVS) {
      expect(needsProviderReader(env)).toBe(false)
      expect(await outcome(() => loadConfig(env))).toEqual(await outcome(() => parseConfig(env)))
      expect(await outcome(() => loadConfig(env, ['tokenTtl']))).toEqual(await outcome(() => parseConfig(env, ['tokenTtl'])))
    }
  })

  it('loads the provider reader for any provider variable, and gives what parseConfig gives', async () => {
    for (const name of PROVIDER_VARIABLES) expect(needsProviderReader({ ...testEnv, [name]: '/x' })).toBe(true)
    expect(needsProviderReader({ ...testEnv, JWT_PROVIDER: '  ' })).toBe(false)
    for (const env of PROVIDER_ENVS) {
      const loaded = await outcome(() => loadConfig(env))
      expect(loaded).toEqual(await outcome(() => parseConfig(env)))
    }
    expect((await outcome(() => loadConfig(PROVIDER_ENVS[2] as Env))).config).toMatchObject({ jwt: { claims: { role: ['app_metadata', 'role'] } } })
  })
})

describe('lazyHandler with an async build', () => {
  it('a bad provider config answers the generic JSON 500 and logs config_error per request; importing and building never throw', async () => {
    const lines: LogEntry[] = []
    const handler = lazyHandler(() => ({ ...testEnv, JWT_ROLE_CLAIM: '/user_metadata/role' }), apiHandler({ routes: [tokenRoutes], settings: ['tokenTtl'] }), {
      log: (line) => lines.push(line),
    })
    for (let i = 0; i < 2; i++) {
      const res = await handler(new Request('https://site.example/api/ably/token', { method: 'POST' }))
      expect(res.status).toBe(500)
      expect(await res.json()).toMatchObject({ code: 'internal_error', requestId: expect.any(String) })
    }
    const errors = lines.filter((line) => line.msg === 'config_error')
    expect(errors).toHaveLength(2)
    expect(errors[0]?.variables).toEqual(['JWT_ROLE_CLAIM'])
  })

  it('builds once for requests that arrive together, and builds again after a build that failed for another reason', async () => {
    let builds = 0
    const handler = lazyHandler(
      () => testEnv,
      async () => {
        builds++
        await new Promise((resolve) => setTimeout(resolve, 5))
        if (builds === 1) throw new Error('transient')
        return () => new Response('ok')
      },
    )
    const first = await Promise.allSettled([handler(new Request('https://x/')), handler(new Request('https://x/'))])
    expect(first.map((result) => result.status)).toEqual(['rejected', 'rejected'])
    expect(builds).toBe(1)
    expect(await (await handler(new Request('https://x/'))).text()).toBe('ok')
    expect(await (await handler(new Request('https://x/'))).text()).toBe('ok')
    expect(builds).toBe(2)
  })
})

describe('the token edge entry', () => {
  it('keeps the provider config reader and the key-set code out of what an HS256-only isolate evaluates', async () => {
    const { modules } = await bundleSplit('netlify/edge-functions/ably-token.ts')
    const initial = modules.filter(({ part }) => part === 'initial').map(({ module }) => module)
    const lazy = modules.filter(({ part }) => part === 'lazy').map(({ module }) => module)
    for (const module of ['src/config/jwt.ts', 'src/auth/keys.ts']) {
      expect(initial).not.toContain(module)
      expect(lazy).toContain(module)
    }
    expect(initial).toContain('src/config/jwt-secret.ts')
    // It signs Ably JWTs locally: the default Ably REST port is loaded only by routes that call it.
    expect(initial).not.toContain('src/ably-rest/index.ts')
    // What a plain token request never needs, each loaded on the first request that does: a CORS preflight, a body,
    // a cookie, a capability too large for a header, revocation, a bad variable's message.
    for (const module of [
      'node_modules/hono/dist/middleware/cors/index.js',
      'src/middleware/body-limit/index.ts',
      'node_modules/hono/dist/utils/cookie.js',
      'src/auth/ably-token-request.ts',
      'src/revocation/services.ts',
      'src/config/messages.ts',
    ]) {
      expect(initial).not.toContain(module)
      expect(lazy).toContain(module)
    }
    // The token route uses the policy's capability alone: the parser, the access rules and their errors stay out.
    expect(initial).toContain('src/policy/capability.ts')
    expect([...initial, ...lazy]).not.toContain('src/policy/derive.ts')
  }, 30_000)

  it('the default Ably REST port, loaded on its first call, answers as the port itself does', async () => {
    const calls: string[] = []
    const fetch = async (input: RequestInfo | URL) => {
      calls.push(String(input))
      return Response.json([1_767_225_600_000])
    }
    const rest = lazyAblyRest({ key: { appId: 'a', name: 'a.b', secret: 'secret-0123456789abcdef' }, restUrl: 'http://127.0.0.1:9', fetch })
    expect(calls).toEqual([])
    expect(await rest.time()).toBe(1_767_225_600_000)
    expect(await rest.time()).toBe(1_767_225_600_000)
    expect(calls).toEqual(['http://127.0.0.1:9/time', 'http://127.0.0.1:9/time'])
  })
})
