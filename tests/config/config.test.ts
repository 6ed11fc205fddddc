import { describe, expect, it } from 'vitest'
import { ConfigError, type ConfigProblem, type Env } from '../../src/config/index.ts'
import { parseConfig } from '../../src/config/parse.ts'
import { testEnv } from '../support/fixtures.ts'

function problemsFor(env: Env): ConfigProblem[] {
  try {
    parseConfig(env)
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems]
    throw error
  }
  return []
}

describe('parseConfig', () => {
  it('parses a complete environment into a typed config', () => {
    const config = parseConfig({ ...testEnv, JWT_ISSUER: 'https://login.example.com', JWT_AUDIENCE: 'realtime', ABLY_TOKEN_TTL: '900', JWT_MAX_AGE: '86400' })
    expect(config).toEqual({
      ably: { key: { appId: 'testApp', name: 'testApp.testKey', secret: 'test-ably-key-secret-0123456789abcdef' }, restUrl: 'http://127.0.0.1:9' },
      jwt: {
        secret: testEnv.JWT_SECRET,
        issuer: 'https://login.example.com',
        audience: 'realtime',
        maxAgeSec: 86400,
        clockToleranceSec: 5,
        claims: { user: [['userId'], ['sub']], role: ['role'], session: ['sid'], singleRole: true },
        maxTokenLength: 8192,
      },
      corsOrigins: ['https://app.example.com', 'http://localhost:5173'],
      tokenTtlSec: 900,
      tokenMinTtlSec: 0,
      adminRoles: ['admin', 'support'],
      revocation: { enabled: false, retentionSec: 86400 },
      deadlineMs: 8000,
    })
  })

  it('defaults: Ably cloud, one-hour tokens, no admin roles, same-origin only', () => {
    const config = parseConfig({ ABLY_API_KEY: testEnv.ABLY_API_KEY, JWT_SECRET: testEnv.JWT_SECRET })
    expect(config.ably.restUrl).toBe('https://main.realtime.ably.net')
    expect(config.tokenTtlSec).toBe(3600)
    expect(config.adminRoles).toEqual([])
    expect(config.corsOrigins).toEqual([])
  })

  const bad: [variable: string, env: Env][] = [
    ['ABLY_API_KEY', { ABLY_API_KEY: undefined }],
    ['ABLY_API_KEY', { ABLY_API_KEY: '' }],
    ['ABLY_API_KEY', { ABLY_API_KEY: 'not-a-key' }],
    ['ABLY_API_KEY', { ABLY_API_KEY: 'app.key' }],
    ['ABLY_API_KEY', { ABLY_API_KEY: 'app.key:short' }],
    ['ABLY_API_KEY', { ABLY_API_KEY: 'appkey:0123456789abcdefghij' }],
    ['JWT_SECRET', { JWT_SECRET: undefined }],
    ['JWT_SECRET', { JWT_SECRET: '' }],
    ['JWT_SECRET', { JWT_SECRET: 'short-secret' }],
    ['JWT_SECRET', { JWT_SECRET: 'x'.repeat(64) }],
    ['JWT_SECRET', { JWT_SECRET: 'abababababababababababababababababab' }],
    ['JWT_SECRET', { JWT_SECRET: 'test-ably-key-secret-0123456789abcdef' }],
    ['JWT_SECRET', { JWT_SECRET: `${testEnv.JWT_SECRET}\n` }],
    ['CORS_ORIGIN', { CORS_ORIGIN: '*' }],
    ['CORS_ORIGIN', { CORS_ORIGIN: 'https://app.example.com/' }],
    ['CORS_ORIGIN', { CORS_ORIGIN: 'https://app.example.com/path' }],
    ['CORS_ORIGIN', { CORS_ORIGIN: 'app.example.com' }],
    ['CORS_ORIGIN', { CORS_ORIGIN: 'https://ok.example.com, ftp://files.example.com' }],
    ['ABLY_TOKEN_TTL', { ABLY_TOKEN_TTL: '0' }],
    ['ABLY_TOKEN_TTL', { ABLY_TOKEN_TTL: '86401' }],
    ['ABLY_TOKEN_TTL', { ABLY_TOKEN_TTL: '1h' }],
    ['ABLY_TOKEN_TTL', { ABLY_TOKEN_TTL: '-5' }],
    ['ABLY_ADMIN_ROLES', { ABLY_ADMIN_ROLES: 'admin,super admin' }],
    ['ABLY_REST_URL', { ABLY_REST_URL: 'localhost:8889' }],
    ['ABLY_REST_URL', { ABLY_REST_URL: 'https://user:pw@rest.example.com' }],
    ['JWT_MAX_AGE', { JWT_MAX_AGE: 'forever' }],
  ]
  it.each(bad)('a bad %s stops the start with a message naming it', (variable, overrides) => {
    const problems = problemsFor({ ...testEnv, ...overrides })
    expect(problems.map((problem) => problem.variable)).toEqual([variable])
    expect(problems[0]?.message).toMatch(new RegExp(`^${variable}\\b`))
    expect(problems[0]?.message).not.toContain('test-ably-key-secret')
  })

  it('reports every problem at once, each with how to fix it', () => {
    const problems = problemsFor({})
    expect(problems).toEqual([
      { variable: 'ABLY_API_KEY', message: expect.stringContaining('ABLY_API_KEY is not set') },
      { variable: 'JWT_SECRET', message: expect.stringContaining('JWT_SECRET is not set') },
    ])
    for (const problem of problems) expect(problem.message).toMatch(/dashboard|openssl/)
    expect(() => parseConfig({})).toThrow(/Invalid configuration:\n {2}- ABLY_API_KEY/)
  })

  it('never echoes a secret in its messages', () => {
    const secret = 'weak-but-secret-value'
    const problems = problemsFor({ ...testEnv, JWT_SECRET: secret })
    expect(JSON.stringify(problems)).not.toContain(secret)
  })

  it('checks only the settings the routes read: the others keep their defaults and cannot fail', () => {
    const env = { ...testEnv, ABLY_TOKEN_TTL: '1h', ABLY_ADMIN_ROLES: 'super admin', ABLY_REST_URL: 'localhost:8889' }
    expect(problemsFor(env).map((problem) => problem.variable)).toEqual(['ABLY_REST_URL', 'ABLY_TOKEN_TTL', 'ABLY_ADMIN_ROLES'])
    const tokenOnly = parseConfig(env, [])
    expect({ ttl: tokenOnly.tokenTtlSec, roles: tokenOnly.adminRoles, restUrl: tokenOnly.ably.restUrl }).toEqual({
      ttl: 3600,
      roles: [],
      restUrl: 'https://main.realtime.ably.net',
    })
    expect(() => parseConfig(env, ['tokenTtl'])).toThrow(/ABLY_TOKEN_TTL/)
  })

  it('lists each bad variable once on the error', () => {
    expect(() => parseConfig({ JWT_SECRET: 'short' })).toThrow(expect.objectContaining({ variables: ['ABLY_API_KEY', 'JWT_SECRET'] }))
  })
})
