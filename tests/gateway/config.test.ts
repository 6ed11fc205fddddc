/** The gateway's configuration: defaults, MongoDB, and refusals that name the variable without echoing secrets. */
import { describe, expect, it } from 'vitest'
import { ConfigError } from '../../src/config/index.ts'
import { parseGatewayConfig } from '../../src/gateway/config.ts'

describe('parseGatewayConfig', () => {
  it('defaults to the embedded store, 60 messages per minute, batches of 50, a 3 s delivery budget', () => {
    expect(parseGatewayConfig({})).toMatchObject({
      store: { kind: 'memory' },
      rateLimit: { limit: 60, windowSec: 60 },
      maxBatch: 50,
      maxMessageBytes: 65_536,
      deliveryBudgetMs: 3000,
      retry: { maxAttempts: 4 },
      outbox: { maxAgeSec: 86_400 },
    })
  })

  it('uses MongoDB when MONGODB_URI is set, with short timeouts and a small pool', () => {
    const config = parseGatewayConfig({ MONGODB_URI: 'mongodb+srv://u:p@cluster0.example.net/?retryWrites=true', MONGODB_DB: 'sms' })
    expect(config.store).toEqual({
      kind: 'mongodb',
      uri: 'mongodb+srv://u:p@cluster0.example.net/?retryWrites=true',
      dbName: 'sms',
      timeoutMs: 2000,
      maxPoolSize: 5,
    })
    expect(config.storeTimeoutMs).toBe(2500)
  })

  it('refuses the embedded store where it would lose messages, unless MESSAGE_STORE=memory says so', () => {
    expect(() => parseGatewayConfig({}, { requireDurableStore: true })).toThrow(/MONGODB_URI is not set/)
    expect(parseGatewayConfig({ MESSAGE_STORE: 'memory' }, { requireDurableStore: true }).store.kind).toBe('memory')
  })

  it('lists every bad variable at once, without echoing the connection string', () => {
    let error: unknown
    try {
      parseGatewayConfig({ MONGODB_URI: 'postgres://admin:hunter2@db', PUBLISH_RATE_LIMIT: 'many', PUBLISH_MAX_BATCH: '500', MESSAGE_STORE: 'mongodb' })
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(ConfigError)
    const problems = (error as ConfigError).problems
    expect(problems.map((problem) => problem.variable)).toEqual(['MONGODB_URI', 'PUBLISH_RATE_LIMIT', 'PUBLISH_MAX_BATCH'])
    expect(JSON.stringify(problems)).not.toContain('hunter2')
  })

  it.each([
    'mongodb://app:s3cret-pw@db.example.net:99999/sms',
    'mongodb+srv://app:s3cret-pw@cluster0.example.net:27017/sms',
    'mongodb://app:s3cret-pw@db.example.net/sms?retryWrites=maybe',
    'mongodb://app:s3cret-pw@db.example.net/sms?noSuchOption=1',
  ])('a MONGODB_URI the driver cannot parse (%s) is a ConfigError naming MONGODB_URI, without the credentials', (uri) => {
    let error: unknown
    try {
      parseGatewayConfig({ MONGODB_URI: uri })
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as ConfigError).variables).toEqual(['MONGODB_URI'])
    const text = (error as ConfigError).problems.map((problem) => problem.message).join('\n')
    expect(text).toMatch(/^MONGODB_URI /)
    expect(text).not.toContain('s3cret')
    expect(text).not.toMatch(/app:/)
  })

  it('bounds MONGODB_TIMEOUT_MS so the store calls of one publish fit in its 8 s deadline, and says so', () => {
    expect(parseGatewayConfig({ MONGODB_URI: 'mongodb://localhost:27017', MONGODB_TIMEOUT_MS: '2000' }).storeTimeoutMs).toBe(2500)
    expect(() => parseGatewayConfig({ MONGODB_URI: 'mongodb://localhost:27017', MONGODB_TIMEOUT_MS: '5000' })).toThrow(
      /MONGODB_TIMEOUT_MS[^\n]*between 200 and 2000[^\n]*8 s deadline/,
    )
  })

  it.each([
    ['MESSAGE_STORE', 'redis'],
    ['PUBLISH_DELIVERY_BUDGET_MS', '9000'],
    ['MONGODB_DB', 'a/b'],
    ['OUTBOX_MAX_AGE_SEC', '1'],
  ])('%s=%s is refused', (name, value) => {
    expect(() => parseGatewayConfig({ MONGODB_URI: 'mongodb://localhost:27017', [name]: value })).toThrow(ConfigError)
  })

  it('a function that does not read PUBLISH_* or OUTBOX_MAX_AGE_SEC keeps their defaults and cannot fail over them', () => {
    const env = { MESSAGE_STORE: 'memory', PUBLISH_MAX_BATCH: '9999', OUTBOX_MAX_AGE_SEC: '1' }
    expect(() => parseGatewayConfig(env)).toThrow(expect.objectContaining({ variables: ['PUBLISH_MAX_BATCH', 'OUTBOX_MAX_AGE_SEC'] }))
    expect(parseGatewayConfig(env, { settings: [] })).toMatchObject({ maxBatch: 50, outbox: { maxAgeSec: 86_400 } })
    expect(() => parseGatewayConfig(env, { settings: ['outbox'] })).toThrow(expect.objectContaining({ variables: ['OUTBOX_MAX_AGE_SEC'] }))
  })

  it('refuses the embedded store under `netlify dev`, which loads the function afresh for every request', () => {
    expect(() => parseGatewayConfig({ MESSAGE_STORE: 'memory', NETLIFY_DEV: 'true' }, { requireDurableStore: true })).toThrow(
      /MESSAGE_STORE[^\n]*netlify dev[^\n]*npm start/,
    )
    expect(parseGatewayConfig({ MESSAGE_STORE: 'memory', NETLIFY_DEV: 'true' }).store.kind).toBe('memory')
  })
})

describe('issue 11 #9: history rate limit and retention', () => {
  it('defaults to 120 history reads per user per minute and 7 days of retention for settled messages', () => {
    expect(parseGatewayConfig({})).toMatchObject({ history: { rateLimit: { limit: 120, windowSec: 60 } }, retentionSec: 604_800 })
    expect(parseGatewayConfig({ HISTORY_RATE_LIMIT: '0' }).history.rateLimit).toBeUndefined()
    expect(parseGatewayConfig({ HISTORY_RATE_LIMIT: '10', HISTORY_RATE_WINDOW_SEC: '5', MESSAGE_RETENTION_SEC: '3600' })).toMatchObject({
      history: { rateLimit: { limit: 10, windowSec: 5 } },
      retentionSec: 3600,
    })
  })

  it('refuses a retention under an hour, naming the variable', () => {
    expect(() => parseGatewayConfig({ MESSAGE_RETENTION_SEC: '60' })).toThrow(/MESSAGE_RETENTION_SEC must be a whole number of seconds between 3600 and/)
  })
})
