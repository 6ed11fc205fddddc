/** The old guide's API: default exports, lazy at import, its helper signatures, and its error texts findable in logs. */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { ConfigError } from '../../src/config/index.ts'
import { appToken, bearer } from '../support/fixtures.ts'
import { gatewayApp, publish, smsMessage } from '../gateway/support.ts'

afterEach(() => {
  vi.unstubAllEnvs()
  vi.resetModules()
})

/** The app's variables (the tools that load modules read their own). */
const APP_VARIABLE = /^(ABLY_|JWT_|MONGODB_|MESSAGE_STORE$|PUBLISH_|OUTBOX_|CORS_ORIGIN$|TOKEN_|ADMIN_)/

/** Imports `specifier` anew with `process.env` replaced by a proxy that records every app variable read. */
async function importWatchingEnv(specifier: string) {
  const reads: string[] = []
  const original = process.env
  process.env = new Proxy(original, {
    get(target, name, receiver) {
      if (typeof name === 'string' && APP_VARIABLE.test(name)) reads.push(name)
      return Reflect.get(target, name, receiver)
    },
  })
  try {
    vi.resetModules()
    return { module: (await import(specifier)) as Record<string, unknown>, reads }
  } finally {
    process.env = original
  }
}

describe('the old guide’s default exports', () => {
  it('ablyServer is the default export of the server helpers, and importing it reads no variable', async () => {
    const { module, reads } = await importWatchingEnv('../../src/server/index.ts')
    const ablyServer = module.default as Record<string, unknown>
    expect(reads).toEqual([])
    expect(ablyServer.publishMessage).toBe(module.publishMessage)
    expect(ablyServer.broadcastContactUpdate).toBe(module.broadcastContactUpdate)
    expect(ablyServer.publishPhoneNumberAssignment).toBe(module.publishPhoneNumberAssignment)
  })

  it('ablyService is the default export of the browser client, idle until connect()', async () => {
    const { module, reads } = await importWatchingEnv('../../src/client/index.ts')
    const ablyService = module.default as { state: string; realtime: unknown; connect: unknown }
    expect(reads).toEqual([])
    expect(ablyService).toBe(module.ablyService)
    expect(ablyService.state).toBe('initialized')
    expect(ablyService.realtime).toBeUndefined()
  })

  it('the first call without ABLY_API_KEY fails with the guide’s “ABLY_API_KEY environment variable not configured”', async () => {
    vi.stubEnv('ABLY_API_KEY', '')
    vi.resetModules()
    const { default: ablyServer } = await import('../../src/server/index.ts')
    const failure = ablyServer.publishMessage('alice', 'c1', { ...smsMessage('alice', 'c1'), direction: 'inbound' })
    // A rejection, not a throw at the call: `await` in a try/catch and `.catch()` both see it.
    await expect(failure).rejects.toMatchObject({ name: ConfigError.name })
    await expect(failure).rejects.toThrow('ABLY_API_KEY environment variable not configured')
  })
})

describe('the old guide’s error texts in the request log', () => {
  it('a refused app token logs `Token verification failed`', async () => {
    const { app, logs } = gatewayApp()
    const res = await app.request('/api/ably/publish', { method: 'POST', headers: { ...bearer('not-a-jwt'), 'Content-Type': 'application/json' }, body: '{}' })
    expect(res.status).toBe(401)
    expect(logs.find((entry) => entry.msg === 'request')).toMatchObject({ status: 401, code: 'invalid_token', guideMessage: 'Token verification failed' })
  })

  it('a publish to another user’s channel logs `Unauthorized: Cannot publish to other users’ channels`', async () => {
    const { app, logs } = gatewayApp()
    const { status } = await publish(app, { channelName: 'sms:bob:c1', eventName: 'message', data: smsMessage('bob', 'c1') }, { token: await appToken() })
    expect(status).toBe(403)
    expect(JSON.stringify(logs)).toContain("Unauthorized: Cannot publish to other users' channels")
  })
})
