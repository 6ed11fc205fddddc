/**
 * ably-js credentials from our token endpoint: an `authCallback` that trades the app JWT for an Ably JWT, with one
 * request in flight at a time, and a refusal (401/403) turned into the one error ably-js does not retry. A refusal
 * that says the app JWT expired first asks `getAppToken` once more (a session refreshed in the background recovers).
 * It needs no ably-js code, so it serves the modular build and the default one (`new Ably.Realtime({ authCallback })`) alike.
 */
import type { ErrorInfo, TokenDetails, TokenParams, TokenRequest } from 'ably'
import { saysExpired } from '../contract/challenge.ts'
import type { TokenResponse } from '../contract/index.ts'

/** The host app's current login JWT; null or undefined when the user is logged out. May refresh the session. */
export type AppTokenGetter = () => string | null | undefined | Promise<string | null | undefined>

/** What the token endpoint gives: an Ably token, or (for a capability too large for an Ably JWT) a signed TokenRequest ably-js redeems. */
type AblyCredential = TokenDetails | (TokenRequest & { readonly token?: undefined })

export type AuthCallback = (params: TokenParams, callback: (error: ErrorInfo | string | null, token: AblyCredential | null) => void) => void

export interface TokenAuthOptions {
  getAppToken: AppTokenGetter
  /** The token endpoint. */
  tokenUrl?: string
  fetch?: typeof globalThis.fetch
  /** Gives up on one token request after this long (ably-js itself waits 10 s). */
  requestTimeoutMs?: number
  /** Told of every token issued (for example to read the server's clock from it); a TokenRequest as its signing time and lifetime. */
  onToken?: (token: TokenDetails) => void
  /** Told when the app session is refused (401/403) or absent. */
  onUnauthorized?: () => void
}

export interface TokenAuth {
  /** Pass as ably-js `authCallback`. */
  authCallback: AuthCallback
  /** A fresh token (or TokenRequest); joins the request already in flight, if any. */
  requestToken(): Promise<AblyCredential>
  /** True once the app session was refused, until `reset()`. */
  readonly unauthorized: boolean
  /** Starts a new session: forgets a refusal, and a request still in flight neither refuses nor delivers its token. */
  reset(): void
}

/** Ably's own code for a refusal from an auth callback; with status 403 ably-js fails the connection instead of retrying. */
export const UNAUTHORIZED_CODE = 40300
/** Ably's code for an auth callback that failed; ably-js retries it. */
export const TOKEN_REQUEST_FAILED_CODE = 40170

/** Why a token request failed, shaped as ably-js's `ErrorInfo` (it reads `code` and `statusCode`); never holds a token. */
export class TokenRequestError extends Error {
  override readonly name = 'TokenRequestError'
  // ably-js's ErrorInfo types `cause` as another ErrorInfo; this error has none.
  override readonly cause = undefined
  /** Ably's code: `UNAUTHORIZED_CODE` or `TOKEN_REQUEST_FAILED_CODE`. */
  readonly code: number
  /** The HTTP status ably-js acts on (403 stops it; anything else is retried). */
  readonly statusCode: number
  constructor(message: string, { code, statusCode }: { code: number; statusCode: number }) {
    super(message)
    this.code = code
    this.statusCode = statusCode
  }
}

/** Builds the credentials source. */
export function createTokenAuth({
  getAppToken,
  tokenUrl = '/api/ably/token',
  fetch = (input, init) => globalThis.fetch(input, init),
  requestTimeoutMs = 10_000,
  onToken = () => {},
  onUnauthorized = () => {},
}: TokenAuthOptions): TokenAuth {
  let inflight: Promise<AblyCredential> | undefined
  let unauthorized = false
  /** Bumped by `reset()`: a request started under an older session settles without effect. */
  let generation = 0

  const refuse = (why: string) => new TokenRequestError(`Unauthorized: ${why}`, { code: UNAUTHORIZED_CODE, statusCode: 403 })

  async function fetchToken(): Promise<AblyCredential> {
    const appToken = await getAppToken()
    if (!appToken) throw refuse('there is no app session')
    const first = await exchange(appToken)
    if (first !== 'expired') return first
    // The app JWT expired: the session may have been renewed meanwhile. Ask once more, then give up.
    const renewed = await getAppToken()
    if (!renewed || renewed === appToken) throw refuse('the app session expired')
    const second = await exchange(renewed)
    if (second === 'expired') throw refuse('the app session expired')
    return second
  }

  async function exchange(appToken: string): Promise<AblyCredential | 'expired'> {
    let res: Response
    try {
      res = await fetch(tokenUrl, { method: 'POST', headers: { Authorization: `Bearer ${appToken}` }, signal: AbortSignal.timeout(requestTimeoutMs) })
    } catch (error) {
      // The message names the failure only: a fetch error never carries the token, but keep it that way.
      throw new TokenRequestError(`Token request failed: ${error instanceof Error ? error.name : 'network error'}`, {
        code: TOKEN_REQUEST_FAILED_CODE,
        statusCode: 500,
      })
    }
    if (res.status === 401 || res.status === 403) {
      if (saysExpired(res.headers.get('www-authenticate'))) return 'expired'
      throw refuse(`the token endpoint answered ${res.status}`)
    }
    if (!res.ok) throw new TokenRequestError(`The token endpoint answered ${res.status}`, { code: TOKEN_REQUEST_FAILED_CODE, statusCode: res.status })
    return tokenDetails(await res.json().catch(() => undefined))
  }

  function requestToken(): Promise<AblyCredential> {
    if (inflight) return inflight
    const started = generation
    // Another session's answer: its token names the wrong user and its refusal is not this session's, so the
    // caller gets an error ably-js retries, and the retry asks for the current session.
    const superseded = () => new TokenRequestError('Token request superseded by a new session', { code: TOKEN_REQUEST_FAILED_CODE, statusCode: 500 })
    const request = fetchToken().then(
      (token) => {
        if (started !== generation) throw superseded()
        onToken(
          token.token === undefined
            ? {
                token: '',
                issued: token.timestamp ?? 0,
                expires: (token.timestamp ?? 0) + (token.ttl ?? 0),
                capability: token.capability ?? '{}',
                clientId: token.clientId ?? '',
              }
            : token,
        )
        return token
      },
      (error: unknown) => {
        if (started !== generation) throw superseded()
        if (error instanceof TokenRequestError && error.code === UNAUTHORIZED_CODE) {
          unauthorized = true
          onUnauthorized()
        }
        throw error
      },
    )
    inflight = request
    const settled = () => {
      if (inflight === request) inflight = undefined
    }
    request.then(settled, settled)
    return request
  }

  return {
    authCallback(_params, callback) {
      requestToken().then(
        (token) => callback(null, token),
        (error: unknown) =>
          callback(
            error instanceof TokenRequestError ? error : new TokenRequestError('Token request failed', { code: TOKEN_REQUEST_FAILED_CODE, statusCode: 500 }),
            null,
          ),
      )
    },
    requestToken,
    get unauthorized() {
      return unauthorized
    },
    reset() {
      generation += 1
      inflight = undefined
      unauthorized = false
    },
  }
}

/**
 * The token response as ably-js `TokenDetails`, which tells it when the token expires; or, for a caller whose
 * capability is too large for an Ably JWT, the signed TokenRequest, which ably-js redeems at Ably itself.
 */
function tokenDetails(body: unknown): AblyCredential {
  const fields = (typeof body === 'object' && body !== null ? body : {}) as Partial<Record<keyof TokenResponse | 'tokenRequest', unknown>>
  const request = fields.tokenRequest as Partial<TokenRequest> | undefined
  if (
    typeof request === 'object' &&
    request !== null &&
    typeof request.keyName === 'string' &&
    typeof request.mac === 'string' &&
    typeof request.timestamp === 'number'
  ) {
    // As is: ably-js tells a TokenRequest by its keyName (and no `issued`) and redeems it at Ably.
    return request as TokenRequest
  }
  const { token, issued, expires, clientId, capability } = fields
  if (typeof token !== 'string' || !token || typeof issued !== 'number' || typeof expires !== 'number' || typeof clientId !== 'string') {
    throw new TokenRequestError('The token endpoint answered with something that is not a token response', { code: TOKEN_REQUEST_FAILED_CODE, statusCode: 500 })
  }
  return { token, issued, expires, clientId, capability: JSON.stringify(capability ?? {}) }
}
