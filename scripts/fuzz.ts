/**
 * A bounded fuzz of hostile publish, history, token and revoke requests against a running `npm start`, on loopback only,
 * over keep-alive connections written byte by byte (so what a server does with a connection is seen, not hidden
 * by an HTTP client). It counts, per kind of request, every status; and it fails (exit 1) on any 5xx, any request
 * dropped on a connection whose previous answer did not say `Connection: close`, or any `unhandled_error` or
 * error-level line that npm start logged meanwhile (pass its log file with --log).
 *
 *   PORT=18888 ABLY_HUB_PORT=18889 npm start > /tmp/stack.log &
 *   npx tsx scripts/fuzz.ts --url http://localhost:18888 --log /tmp/stack.log [--requests 30000] [--seconds 300]
 *
 * It also probes, and reports without failing, the gateway defects of issue 11 that are fixed (4, 6, 9): a finding in
 * `gatewayFindings` means one is back.
 */
import { readFile, stat } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { base64url } from 'jose'
import { mintAppToken } from '../src/local/mint-app-token.ts'
import { scriptCli } from './cli.ts'
import { rawConnection, rawRequest, type RawConnection, type RawResponse } from '../tests/support/raw-http.ts'

const cli = scriptCli(
  'fuzz',
  'Usage: npx tsx scripts/fuzz.ts [--url http://localhost:8888] [--log <npm start log>] [--requests 30000] [--concurrency 16] [--seconds 300] [--seed 11]',
  'Fuzzes a running npm start (loopback only) and prints a JSON report; exit 1 on a 5xx, a dropped keep-alive request\nor an error-level line in the log. Needs its dev login (or JWT_SECRET to mint with).',
)
const values = cli.parse(() =>
  parseArgs({
    options: {
      url: { type: 'string', default: 'http://localhost:8888' },
      requests: { type: 'string', default: '30000' },
      concurrency: { type: 'string', default: '16' },
      seconds: { type: 'string', default: '300' },
      log: { type: 'string' },
      seed: { type: 'string', default: '11' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  }),
)
const base = cli.target(values.url)
const PORT = Number(base.port || 80)
const TOTAL = cli.count('requests', values.requests)
const CONCURRENCY = cli.count('concurrency', values.concurrency)
const SECONDS = cli.count('seconds', values.seconds)
const SEED = cli.count('seed', values.seed, 0)
const DEADLINE = performance.now() + SECONDS * 1000

// A small seeded PRNG (mulberry32), so a run can be repeated.
let seed = SEED >>> 0
const random = () => {
  seed = (seed + 0x6d2b79f5) >>> 0
  let t = seed
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

// ---- Credentials: real sessions from the dev login (or JWT_SECRET), and forged ones. ----
const USERS = Array.from({ length: 8 }, (_, i) => `fuzz${i}`)
async function session(userId: string, ttlSec: number): Promise<string> {
  const res = await fetch(new URL('/dev/session', base), {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ userId, ttlSec }),
  })
  if (res.ok) return ((await res.json()) as { token: string }).token
  if (process.env.JWT_SECRET) return mintAppToken(process.env.JWT_SECRET, { userId, ttlSec })
  return cli.fail(
    `no dev login at ${base.origin} (POST /dev/session answered ${res.status}) and no JWT_SECRET to mint with: run it against npm start with its generated secret, DEV_LOGIN=true, or set JWT_SECRET here.`,
  )
}
const tokens = Object.fromEntries(await Promise.all(USERS.map(async (user) => [user, await session(user, 3600)] as const)))
const shortLived = await session('fuzzshort', 5)
// Sessions of a user of their own for the valid revokes, so a revoke never signs out the sessions the other cases use.
const revocable = await Promise.all(Array.from({ length: 4 }, () => session('fuzzrevoke', 3600)))
const segment = (part: unknown) => base64url.encode(typeof part === 'string' ? part : JSON.stringify(part))
async function forge(header: object, payload: object, secret = 'not-the-secret-0123456789-abcdefghijklmnopqr'): Promise<string> {
  const input = `${segment(header)}.${segment(payload)}`
  const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])
  return `${input}.${base64url.encode(new Uint8Array(await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(input))))}`
}
const nowSec = Math.floor(Date.now() / 1000)
const claims = { userId: 'fuzz0', iat: nowSec, exp: nowSec + 3600 }
const real = tokens.fuzz0 as string
const [realHeader, realPayload] = real.split('.')
const forged = [
  await forge({ alg: 'HS256', typ: 'JWT' }, claims),
  `${segment({ alg: 'none' })}.${segment(claims)}.`,
  await forge({ alg: 'HS256', jku: 'https://evil.example/jwks' }, claims),
  await forge({ alg: 'HS256', jwk: { kty: 'oct', k: 'ZXZpbA' } }, claims, 'evil'),
  await forge({ alg: 'HS384' }, claims),
  `${realHeader}.${segment({ ...claims, userId: 'fuzz1' })}.${real.split('.')[2]}`,
  `${realHeader}.${realPayload}.`,
  'a.b.c',
  'x'.repeat(5000),
  `${real}.extra`,
]

// ---- Request generators. ----
type Part = string | Buffer | { pauseMs: number }
interface Case {
  kind: 'publish' | 'history' | 'token' | 'revoke' | 'other'
  name: string
  parts: Part[]
  /** The client goes away mid-request: no answer is expected. */
  abort?: boolean
}

const smsData = (userId: string, contactId: string, text: string) => ({
  contactId,
  userId,
  phoneNumberId: 'pn1',
  message: text,
  direction: 'inbound',
  timestamp: new Date().toISOString(),
})
const auth = (token: string) => ({ Authorization: `Bearer ${token}` })
/** The user a case is about: its real token, when it has one, and its own channels. */
let current = USERS[0] as string
const anyAuth = (): Record<string, string> =>
  pick<() => Record<string, string>>([
    () => auth(tokens[current] as string),
    () => auth(tokens[current] as string),
    () => auth(tokens[current] as string),
    () => auth(tokens[pick(USERS)] as string),
    () => auth(shortLived),
    () => auth(pick(forged)),
    () => ({}),
    () => ({ Authorization: 'Basic Zm9vOmJhcg==' }),
    () => ({ Authorization: 'Bearer' }),
    () => ({ Authorization: `bearer  ${real}` }),
  ])()
const hostileChannels = [
  'sms:fuzz0',
  'sms:fuzz1:c1',
  'sms:fuzz0:c1:x',
  'contacts:*',
  '[meta]log',
  'sms:fuzz0:' + 'c'.repeat(65),
  'notifications:fuzz0\n',
  'sms:fuzz0:с1',
  '',
  'contacts:fuzz0',
  'notifications:fuzz0',
]
const hostileEvents = ['message', 'message_status', 'update', 'sms_received', '__proto__', '', 'MESSAGE', 'x'.repeat(300)]
const hostileData = [
  () => smsData('fuzz0', 'c1', 'hi'),
  () => ({}),
  () => null,
  () => 'text',
  () => ({ ...smsData('fuzz0', 'c1', 'x'.repeat(70_000)) }),
  () => ({ ...smsData('fuzz0', 'c1', 'hi'), extra: true }),
  () => ({ __proto__: { polluted: true }, ...smsData('fuzz0', 'c1', 'hi') }),
  () => ({ action: 'refresh' }),
]

function publishBody(): string {
  const item = () => {
    const user = pick(USERS)
    const valid = random() < 0.5
    return valid
      ? { channelName: `sms:${user}:c${Math.floor(random() * 3)}`, eventName: 'message', data: smsData(user, 'c0', `fuzz ${random()}`) }
      : {
          channelName: pick(hostileChannels),
          eventName: pick(hostileEvents),
          data: pick(hostileData)(),
          ...(random() < 0.2 && { id: pick(['', 'id-1', 'x'.repeat(300), 'msg-🙂']) }),
        }
  }
  const own = () => ({ channelName: `sms:${current}:c1`, eventName: 'message', data: smsData(current, 'c1', `fuzz ${random()}`) })
  return pick<() => string>([
    () => JSON.stringify(own()),
    () => JSON.stringify(own()),
    () => JSON.stringify({ messages: [own(), own()] }),
    () => JSON.stringify(item()),
    () => JSON.stringify({ messages: Array.from({ length: 1 + Math.floor(random() * 5) }, item) }),
    () => JSON.stringify({ messages: Array.from({ length: 51 }, item) }),
    () => JSON.stringify({ messages: [] }),
    () => `{"channelName":"sms:fuzz0:c1","eventName":"message","data":${'['.repeat(10_000)}`,
    () => '\uFEFF{"a":1}',
    () => '{"a":NaN}',
    () => 'not json',
    () => '',
    () => '[]',
    () => JSON.stringify(item()).slice(0, 20),
  ])()
}

function publishCase(): Case {
  const body = publishBody()
  const headers: Record<string, string> = {
    ...anyAuth(),
    'Content-Type': pick(['application/json', 'application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded']),
  }
  if (random() < 0.3) headers['Idempotency-Key'] = pick([`k-${Math.floor(random() * 50)}`, '', ' ', 'x'.repeat(300), '"quoted"', 'ключ'])
  const roll = random()
  if (roll < 0.04) {
    // An honest Content-Length over the cap, with its body (defect 1's case).
    const big = 'x'.repeat(600 * 1024)
    return {
      kind: 'publish',
      name: 'over the cap by Content-Length',
      parts: [rawRequest('POST', '/api/ably/publish', { ...headers, 'Content-Length': String(big.length) }), big],
    }
  }
  if (roll < 0.06) {
    // Chunked, over the cap: counted while read.
    const chunk = 'y'.repeat(64 * 1024)
    const chunks = Array.from({ length: 10 }, () => `${chunk.length.toString(16)}\r\n${chunk}\r\n`).join('')
    return {
      kind: 'publish',
      name: 'chunked over the cap',
      parts: [
        `${rawRequest('POST', '/api/ably/publish', { ...headers, 'Transfer-Encoding': 'chunked' }).replace(/Content-Length: \d+\r\n/, '')}${chunks}0\r\n\r\n`,
      ],
    }
  }
  if (roll < 0.08) {
    // The client goes away mid-body (defect 2's case).
    const full = rawRequest('POST', '/api/ably/publish', headers, body)
    return { kind: 'publish', name: 'client gone mid-body', parts: [full.slice(0, full.length - Math.max(1, Math.floor(body.length / 2)))], abort: true }
  }
  if (roll < 0.1) {
    // A body that pauses on the way (within its budget).
    const full = rawRequest('POST', '/api/ably/publish', headers, body)
    const cut = full.length - Math.floor(body.length / 2)
    return { kind: 'publish', name: 'body with a pause', parts: [full.slice(0, cut), { pauseMs: 50 + Math.floor(random() * 300) }, full.slice(cut)] }
  }
  if (roll < 0.12) return { kind: 'publish', name: 'wrong method', parts: [rawRequest(pick(['PUT', 'DELETE', 'PATCH']), '/api/ably/publish', headers, body)] }
  return { kind: 'publish', name: 'hostile publish', parts: [rawRequest('POST', '/api/ably/publish', headers, body)] }
}

function historyCase(): Case {
  const query = pick<() => string>([
    () => `channelName=${encodeURIComponent(`sms:${pick(USERS)}:c1`)}`,
    () => `channelName=${encodeURIComponent(pick(hostileChannels))}`,
    () => `channelName=sms:fuzz0:c1&limit=${pick(['0', '1', '100', '101', '-1', '1e3', 'abc', ''])}`,
    () => `channelName=sms:fuzz0:c1&before=${pick(['2026-01-01T00:00:00Z', '000000000000001', 'garbage', '9'.repeat(40), '0000000000000:1234:abc'])}`,
    () => '',
    () => `channelName=${'a'.repeat(5000)}`,
  ])()
  return {
    kind: 'history',
    name: 'hostile history',
    parts: [rawRequest(pick(['GET', 'GET', 'GET', 'POST', 'HEAD']), `/api/ably/history?${query}`, anyAuth(), '')],
  }
}

function tokenCase(): Case {
  const method = pick(['POST', 'POST', 'GET', 'PUT', 'OPTIONS'])
  const body = pick(['', '', '{}', 'x'.repeat(20 * 1024), '{"token":"abc"}'])
  const headers = { ...anyAuth(), ...(random() < 0.2 && { Origin: pick(['https://evil.example', 'http://localhost:5173']) }) }
  return {
    kind: 'token',
    name: 'hostile token',
    parts: [rawRequest(method, pick(['/api/ably/token', '/api/ably/token?token=abc', '/api/ably/token/', '/api/ably/TOKEN']), headers, body)],
  }
}

/**
 * `POST /api/ably/revoke` (404 unless the stack runs with ABLY_REVOCABLE_TOKENS=true): hostile bodies, content types
 * and methods with any credential, and now and then a valid revoke of a `fuzzrevoke` session (this device, or every
 * device of that user), which must answer 200 and leave every other user's sessions alone.
 */
function revokeCase(): Case {
  const hostile = pick([
    '{',
    '[]',
    'null',
    '"session"',
    '{"scope":"everyone"}',
    '{"scope":"session","userId":"fuzz1"}',
    '{"userId":"fuzz1"}',
    '{"userId":""}',
    '{"userId":"*"}',
    '{"__proto__":{"admin":true}}',
    '{"scope":"user","extra":1}',
    `{"userId":"${'x'.repeat(300)}"}`,
    'x'.repeat(5000),
  ])
  const valid = random() < 0.25
  const headers = {
    ...(valid ? { Authorization: `Bearer ${pick(revocable)}` } : anyAuth()),
    ...(random() < 0.8 && { 'Content-Type': pick(['application/json', 'application/json', 'text/plain']) }),
  }
  const method = valid ? 'POST' : pick(['POST', 'POST', 'POST', 'GET', 'PUT', 'DELETE'])
  return {
    kind: 'revoke',
    name: valid ? 'revoke' : 'hostile revoke',
    parts: [rawRequest(method, '/api/ably/revoke', headers, valid ? pick(['', '{"scope":"user"}']) : hostile)],
  }
}

function otherCase(): Case {
  return pick<() => Case>([
    () => ({
      kind: 'other',
      name: 'unknown path with a body',
      parts: [rawRequest('POST', `/api/ably/${pick(['nope', '../etc/passwd', '%00', 'stats/x'])}`, {}, 'z'.repeat(Math.floor(random() * 2000)))],
    }),
    () => ({
      kind: 'other',
      name: 'stats',
      parts: [rawRequest('GET', `/api/ably/stats${pick(['', '?channelName=sms:fuzz0:c1', '?channelName=%5Bmeta%5D'])}`, anyAuth())],
    }),
  ])()
}

const nextCase = (): Case => {
  current = pick(USERS)
  const roll = random()
  return roll < 0.52 ? publishCase() : roll < 0.72 ? historyCase() : roll < 0.89 ? tokenCase() : roll < 0.95 ? revokeCase() : otherCase()
}

// ---- The run. ----
const counts: Record<string, Record<string, number>> = {}
const serverErrors: { name: string; status: number; body: string }[] = []
let sent = 0
let answered = 0
let aborted = 0
let dropped = 0
let closedAsAnnounced = 0
const droppedExamples: string[] = []

// Only what npm start logs from now on counts.
const logStart = values.log ? (await stat(values.log)).size : 0

async function worker() {
  let connection: RawConnection | undefined
  let mayClose = false
  while (sent < TOTAL && performance.now() < DEADLINE) {
    sent += 1
    const request = nextCase()
    connection ??= await rawConnection(PORT, base.hostname === 'localhost' ? '127.0.0.1' : base.hostname.replace(/^\[|\]$/g, ''))
    for (const part of request.parts) {
      if (typeof part === 'object' && 'pauseMs' in part) await sleep(part.pauseMs)
      else connection.write(part)
    }
    if (request.abort) {
      await sleep(5)
      connection.destroy()
      connection = undefined
      aborted += 1
      continue
    }
    let response: RawResponse | 'closed'
    try {
      response = await connection.response(30_000)
    } catch {
      response = 'closed'
    }
    if (response === 'closed') {
      if (!mayClose) {
        dropped += 1
        if (droppedExamples.length < 5) droppedExamples.push(`${request.kind}: ${request.name}`)
      }
      connection.destroy()
      connection = undefined
      mayClose = false
      continue
    }
    answered += 1
    const byStatus = counts[request.kind] ?? {}
    counts[request.kind] = byStatus
    byStatus[response.status] = (byStatus[response.status] ?? 0) + 1
    if (response.status >= 500) serverErrors.push({ name: `${request.kind}: ${request.name}`, status: response.status, body: response.body.slice(0, 200) })
    if (response.headers.connection === 'close') {
      closedAsAnnounced += 1
      connection.destroy()
      connection = undefined
    }
    mayClose = false
  }
  connection?.destroy()
}

const started = performance.now()
await Promise.all(Array.from({ length: CONCURRENCY }, worker))
const seconds = (performance.now() - started) / 1000

// ---- Probes of fixed gateway defects (issue 11): a finding is a regression, reported without failing the run. ----
const findings: string[] = []
async function post(path: string, token: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(new URL(path, base), {
    method: 'POST',
    headers: { ...auth(token), 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
  })
  return { status: res.status, replayed: res.headers.get('idempotent-replayed'), body: (await res.json().catch(() => ({}))) as Record<string, unknown> }
}
{
  const probeUser = 'fuzzprobe'
  const token = await session(probeUser, 600)
  const message = { channelName: `sms:${probeUser}:c1`, eventName: 'message', data: smsData(probeUser, 'c1', 'probe 4') }
  const key = `probe4-${Date.now()}`
  const single = await post('/api/ably/publish', token, message, { 'Idempotency-Key': key })
  const batch = await post('/api/ably/publish', token, { messages: [message] }, { 'Idempotency-Key': key })
  const batchId = (batch.body.results as { messageId?: string }[] | undefined)?.[0]?.messageId
  if (batch.status < 300 && batchId !== single.body.messageId && batch.replayed !== 'true') {
    findings.push(
      `defect 4 (idempotency across envelopes): key ${key} on a single message (${single.status}, ${single.body.messageId}) then on {messages:[same]} → ${batch.status}, ${batchId}, no Idempotent-Replayed`,
    )
  }
  const key6 = `probe6-${Date.now()}`
  const concurrent = await Promise.all(
    Array.from({ length: 8 }, () => post('/api/ably/publish', token, { ...message, data: smsData(probeUser, 'c1', 'probe 6') }, { 'Idempotency-Key': key6 })),
  )
  const labelled409 = concurrent.filter((res) => res.status === 409 && res.replayed === 'true').length
  if (labelled409 > 0)
    findings.push(`defect 6 (409 labelled a replay): ${labelled409} of 8 concurrent requests with key ${key6} got 409 with Idempotent-Replayed: true`)
  // History is rate-limited per user (HISTORY_RATE_LIMIT, 120 a minute by default): one read says what is left (its
  // RateLimit header), then exactly one of that many reads and one more must be refused.
  const read = () =>
    fetch(new URL(`/api/ably/history?channelName=sms:${probeUser}:c1`, base), { headers: auth(token) }).then(async (res) => {
      await res.arrayBuffer()
      return res
    })
  let first = await read()
  // A window about to reset would let the reads through: start them in a fresh one.
  const resetSec = Number(/;t=(\d+)/.exec(first.headers.get('ratelimit') ?? '')?.[1] ?? 60)
  if (resetSec < 5) {
    await sleep((resetSec + 1) * 1000)
    first = await read()
  }
  const left = /;r=(\d+)/.exec(first.headers.get('ratelimit') ?? '')?.[1]
  if (left === undefined)
    findings.push(
      `defect 9 (history not rate-limited): GET /api/ably/history answered ${first.status} with no RateLimit header (or HISTORY_RATE_LIMIT=0 switched it off)`,
    )
  else if (Number(left) > 1000) findings.push(`history rate limit not probed: ${left} reads left is over the probe's bound of 1000`)
  else {
    const reads = await Promise.all(Array.from({ length: Number(left) + 1 }, () => read().then((res) => res.status)))
    const refused = reads.filter((status) => status === 429).length
    if (refused !== 1)
      findings.push(`defect 9 (history not rate-limited): ${left} reads left, then ${reads.length} parallel reads by one user: ${refused} got 429, not 1`)
  }
}

let unhandled = 0
let errorLines = 0
if (values.log) {
  const text = (await readFile(values.log)).subarray(logStart).toString('utf8')
  for (const line of text.split('\n')) {
    if (line.includes('"unhandled_error"')) unhandled += 1
    if (line.includes('"level":"error"')) errorLines += 1
  }
}

const report = {
  target: base.origin,
  seconds: Math.round(seconds * 10) / 10,
  requests: sent,
  answered,
  abortedByTheClient: aborted,
  closedAsAnnounced,
  droppedKeepAlive: dropped,
  droppedExamples,
  statuses: counts,
  fiveHundreds: serverErrors.length,
  fiveHundredExamples: serverErrors.slice(0, 5),
  log: values.log ? { unhandledErrorLines: unhandled, errorLevelLines: errorLines } : 'not read (pass --log)',
  gatewayFindings: findings,
}
console.log(JSON.stringify(report, null, 2))
const failed = serverErrors.length > 0 || dropped > 0 || unhandled > 0 || errorLines > 0 || sent < TOTAL
process.exit(failed ? 1 : 0)
