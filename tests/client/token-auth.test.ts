import type { ErrorInfo } from 'ably'
import { describe, expect, it } from 'vitest'
import { createRecentIds } from '../../src/client/recent-ids.ts'
import { createTokenAuth, TOKEN_REQUEST_FAILED_CODE, TokenRequestError, UNAUTHORIZED_CODE } from '../../src/client/token-auth.ts'

// The token source alone, over a scripted fetch: what ably-js is told for each answer of the token endpoint.
const tokenBody = { token: 'ably.jwt.value', issued: 1_000, expires: 3_601_000, clientId: 'alice', capability: { 'contacts:alice': ['subscribe'] } }

function scripted(answer: () => Response | Promise<Response>) {
  const calls: { url: string; authorization: string | null }[] = []
  const fetch: typeof globalThis.fetch = async (input, init) => {
    calls.push({ url: String(input), authorization: new Headers(init?.headers).get('authorization') })
    return answer()
  }
  return { fetch, calls }
}

describe('the token source', () => {
  it('trades the app JWT for TokenDetails, so ably-js knows when the token expires', async () => {
    const { fetch, calls } = scripted(() => Response.json(tokenBody))
    const issued: number[] = []
    const auth = createTokenAuth({ getAppToken: () => 'app.jwt', fetch, onToken: (token) => issued.push(token.expires) })
    expect(await auth.requestToken()).toEqual({
      token: 'ably.jwt.value',
      issued: 1_000,
      expires: 3_601_000,
      clientId: 'alice',
      capability: '{"contacts:alice":["subscribe"]}',
    })
    expect(calls).toEqual([{ url: '/api/ably/token', authorization: 'Bearer app.jwt' }])
    expect(issued).toEqual([3_601_000])
  })

  it('joins the request in flight instead of starting another', async () => {
    let release = () => {}
    const gate = new Promise<void>((resolve) => (release = resolve))
    const { fetch, calls } = scripted(() => gate.then(() => Response.json(tokenBody)))
    const auth = createTokenAuth({ getAppToken: () => 'app.jwt', fetch })
    const pending = [auth.requestToken(), auth.requestToken()]
    await new Promise((resolve) => setTimeout(resolve, 0))
    release()
    await Promise.all(pending)
    expect(calls).toHaveLength(1)
    await auth.requestToken()
    expect(calls).toHaveLength(2)
  })

  it.each([
    ['a token', () => Response.json(tokenBody)],
    ['a refusal', () => new Response(null, { status: 401 })],
  ])('%s answering a request from before reset() is dropped, and the next request is a new one', async (_case, answer) => {
    let release = () => {}
    const gate = new Promise<void>((resolve) => (release = resolve))
    let held = true
    const { fetch, calls } = scripted(() => (held ? ((held = false), gate.then(answer)) : Response.json(tokenBody)))
    const told: string[] = []
    const auth = createTokenAuth({ getAppToken: () => 'app.jwt', fetch, onToken: () => told.push('token'), onUnauthorized: () => told.push('unauthorized') })
    const old = auth.requestToken()
    await new Promise((resolve) => setTimeout(resolve, 0))
    auth.reset()
    const fresh = auth.requestToken()
    release()
    // A retriable error: ably-js asks again, under the new session.
    await expect(old).rejects.toMatchObject({ code: TOKEN_REQUEST_FAILED_CODE, statusCode: 500 })
    await fresh
    expect(calls).toHaveLength(2)
    expect([auth.unauthorized, told]).toEqual([false, ['token']])
  })

  it.each([
    ['a renewed JWT gets a token', ['old.app.jwt', 'new.app.jwt'], [403, 200], true],
    ['the same JWT again is not sent again', ['old.app.jwt', 'old.app.jwt'], [403], false],
    ['a second "expired" is final', ['old.app.jwt', 'new.app.jwt'], [403, 403], false],
  ] as const)('an answer that says the app JWT expired: asks getAppToken once more; %s', async (_case, jwts, statuses, recovers) => {
    const expired = () =>
      new Response(null, { status: 403, headers: { 'WWW-Authenticate': 'Bearer error="invalid_token", error_description="The access token expired"' } })
    let answered = 0
    const { fetch, calls } = scripted(() => (statuses[answered++] === 200 ? Response.json(tokenBody) : expired()))
    let asked = 0
    const auth = createTokenAuth({ getAppToken: () => jwts[asked++], fetch })
    const result = await auth.requestToken().then(
      () => 'token',
      (error: TokenRequestError) => error.statusCode,
    )
    expect(result).toBe(recovers ? 'token' : 403)
    expect(asked).toBe(2)
    expect(calls.map((call) => call.authorization)).toEqual(statuses.map((_status, i) => `Bearer ${jwts[i]}`))
    expect(auth.unauthorized).toBe(!recovers)
  })

  it('an answer that says the app JWT is invalid does not ask again', async () => {
    const { fetch, calls } = scripted(
      () =>
        new Response(null, {
          status: 403,
          headers: { 'WWW-Authenticate': 'Bearer error="invalid_token", error_description="The access token is missing or invalid"' },
        }),
    )
    let asked = 0
    const auth = createTokenAuth({ getAppToken: () => (asked++, 'app.jwt'), fetch })
    await expect(auth.requestToken()).rejects.toMatchObject({ statusCode: 403 })
    expect([asked, calls.length]).toEqual([1, 1])
  })

  it.each([
    ['401 from the endpoint', () => new Response(null, { status: 401 }), true],
    ['403 from the endpoint', () => new Response(null, { status: 403 }), true],
    ['503 from the endpoint', () => new Response(null, { status: 503 }), false],
    ['a body that is not a token response', () => Response.json({ token: 42 }), false],
    ['a network failure', () => Promise.reject(new TypeError('fetch failed')), false],
  ])('%s: unauthorized only for a refusal', async (_case, answer, refused) => {
    const { fetch } = scripted(answer)
    let told = 0
    const auth = createTokenAuth({ getAppToken: () => 'app.jwt', fetch, onUnauthorized: () => (told += 1) })
    const error = await new Promise<ErrorInfo | string | null>((resolve) => auth.authCallback({}, resolve))
    if (!(error instanceof TokenRequestError)) throw new Error(`expected a TokenRequestError, got ${String(error)}`)
    // Status 403 is what makes ably-js fail the connection instead of retrying it.
    expect(error.statusCode === 403).toBe(refused)
    expect(error.code).toBe(refused ? UNAUTHORIZED_CODE : TOKEN_REQUEST_FAILED_CODE)
    expect(error.message).not.toContain('app.jwt')
    expect([auth.unauthorized, told]).toEqual([refused, refused ? 1 : 0])
    auth.reset()
    expect(auth.unauthorized).toBe(false)
  })
})

describe('recent ids', () => {
  it('spots a repeat, and forgets the oldest beyond the limit', () => {
    const ids = createRecentIds(2)
    expect(['a', 'b', 'a'].map((id) => ids.add(id))).toEqual([true, true, false])
    expect(ids.add('c')).toBe(true)
    expect([ids.has('a'), ids.has('b'), ids.has('c'), ids.size]).toEqual([false, true, true, 2])
    expect(() => createRecentIds(0)).toThrow(TypeError)
  })
})
