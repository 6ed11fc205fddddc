/** Shared test fixtures: one config, one way to mint app JWTs, one fake Ably REST port. Defined once, used everywhere. */
import { base64url, SignJWT, type JWTPayload } from 'jose'
import type { AblyRest, ChannelStatus } from '../../src/ably-rest/index.ts'
import { createApp, type AppDeps } from '../../src/app.ts'
import type { Config, Env } from '../../src/config/index.ts'
import { parseConfig } from '../../src/config/parse.ts'
import type { LogEntry } from '../../src/log/index.ts'
import { edgeRoutes } from '../../src/routes/index.ts'

export const TEST_JWT_SECRET = 'test-app-jwt-secret-0123456789-abcdefghijklmnop'
export const TEST_ABLY_KEY = 'testApp.testKey:test-ably-key-secret-0123456789abcdef'
export const TEST_ORIGIN = 'https://app.example.com'
/** A fixed clock: 2026-01-01T00:00:00Z. */
export const NOW = Date.UTC(2026, 0, 1)
export const NOW_SEC = NOW / 1000

export const testEnv: Env = {
  ABLY_API_KEY: TEST_ABLY_KEY,
  JWT_SECRET: TEST_JWT_SECRET,
  CORS_ORIGIN: `${TEST_ORIGIN},http://localhost:5173`,
  ABLY_ADMIN_ROLES: 'admin,support',
  ABLY_REST_URL: 'http://127.0.0.1:9',
}

export function testConfig(overrides: Env = {}): Config {
  return parseConfig({ ...testEnv, ...overrides })
}

/** Mints an app JWT the way the host app's login would. Claims default to a valid `alice` token. */
export async function appToken(
  claims: JWTPayload = {},
  { secret = TEST_JWT_SECRET, alg = 'HS256', header = {} }: { secret?: string; alg?: string; header?: Record<string, unknown> } = {},
): Promise<string> {
  return new SignJWT({ userId: 'alice', role: 'user', iat: NOW_SEC, exp: NOW_SEC + 3600, ...claims })
    .setProtectedHeader({ alg, typ: 'JWT', ...header })
    .sign(new TextEncoder().encode(secret))
}

export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` })

/** A scripted Ably REST port: each method answers from the given behaviour and records its calls. */
export interface FakeAblyBehaviour {
  time?: () => Promise<number>
  channelStatus?: (channel: string) => Promise<ChannelStatus>
  batchPresence?: AblyRest['batchPresence']
}

export function fakeAbly(behaviour: FakeAblyBehaviour = {}): AblyRest & { calls: string[] } {
  const calls: string[] = []
  return {
    calls,
    time: async () => {
      calls.push('time')
      return (behaviour.time ?? (async () => NOW))()
    },
    channelStatus: async (channel) => {
      calls.push(`channelStatus ${channel}`)
      return (behaviour.channelStatus ?? (async () => ({ isActive: false })))(channel)
    },
    publish: async (channel) => {
      calls.push(`publish ${channel}`)
    },
    batchPublish: async () => {
      calls.push('batchPublish')
      return []
    },
    batchPresence: async (channels, options) => {
      calls.push(`batchPresence ${channels.length}`)
      return (behaviour.batchPresence ?? (async () => channels.map((channel) => ({ channel, members: [] }))))(channels, options)
    },
  }
}

/** An app with test config, a fixed clock, a fake Ably and a log that tests can read. */
export function testApp({ config = testConfig(), routes = edgeRoutes, ...deps }: Partial<AppDeps> & { config?: Config } = {}) {
  const logs: LogEntry[] = []
  const app = createApp(config, { now: () => NOW, ably: fakeAbly(), log: (entry) => logs.push(entry), routes, ...deps })
  return { app, logs, config }
}

/**
 * Builds a JWT by hand, for the forgeries jose refuses to produce: any header and payload text, signed with
 * HMAC-SHA256 under `secret` (or given a literal signature).
 */
export async function craftJwt(
  header: object | string,
  payload: object | string,
  signature: { secret: string; hash?: 'SHA-256' | 'SHA-384' | 'SHA-512' } | { literal: string } = { secret: TEST_JWT_SECRET },
): Promise<string> {
  const segment = (part: object | string) => base64url.encode(typeof part === 'string' ? part : JSON.stringify(part))
  const input = `${segment(header)}.${segment(payload)}`
  if ('literal' in signature) return `${input}.${signature.literal}`
  const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(signature.secret), { name: 'HMAC', hash: signature.hash ?? 'SHA-256' }, false, [
    'sign',
  ])
  return `${input}.${base64url.encode(new Uint8Array(await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(input))))}`
}

/** Valid claims for `alice` at `NOW`, for hand-built tokens. */
export const aliceClaims = { userId: 'alice', role: 'user', iat: NOW_SEC, exp: NOW_SEC + 3600 }

/** Hostile channel names (C03–C22 of the security cases): none is a channel, whatever the route. */
export const HOSTILE_CHANNEL_NAMES: readonly string[] = [
  'SMS:alice:c1',
  'Sms:alice:c1',
  'sms:alice',
  'sms:alice:c1:x',
  'contacts:alice:x',
  'sms:alice:',
  'sms::c1',
  'sms:alice::c1',
  'contacts:',
  '*',
  'sms:*:c1',
  'sms:alice:*',
  'contacts:*',
  'foo*',
  '[meta]channel.lifecycle',
  '[meta]log',
  '[meta]*',
  '[queue]app-q',
  '[*]*',
  ':sms:alice:c1',
  'sms:alice:c1\n',
  'sms:alice\r\n:c1',
  'sms:alice:c1\u2028',
  'sms:alice:c1\u0085',
  ' sms:alice:c1',
  'sms:alice:c1 ',
  'sms:alice:c\t1',
  'sms:alice:c1\u0000',
  'sms:alice:\u001b',
  'sms:alice:c1\u007f',
  'sms:аlice:c1',
  'sms:alıce:c1',
  'sms:alice:\u202Eecil',
  'sms:alice:../bob',
  'sms:alice:..%2Fbob',
  'sms:alice:c1/../../x',
  `sms:alice:${'c'.repeat(65)}`,
  'x'.repeat(201),
  'x'.repeat(100_000),
]
