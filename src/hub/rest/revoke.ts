/** `POST /keys/:keyName/revokeTokens`, as Ably serves it: records the revocation, then applies it to live connections. */
import type { Authority, Credential } from '../auth.ts'
import type { LogLine, Realtime } from '../realtime/index.ts'
import type { RevocationResult } from '../revocation.ts'

/** Ably's answer: a BatchResult of `TokenRevocationSuccessResult`s (a request is refused whole, so none fail alone). */
export interface RevokeTokensResponse {
  successCount: number
  failureCount: number
  results: RevocationResult[]
}

/** Builds the handler behind the route; `caller` is the request's verified credential (a key, or 40162). */
export function createRevokeTokens({ authority, realtime, log }: { authority: Authority; realtime: Pick<Realtime, 'applyRevocations'>; log: LogLine }) {
  return function revokeTokens(keyName: string, body: unknown, caller: Credential): RevokeTokensResponse {
    const results = authority.revokeTokens(keyName, body, caller)
    realtime.applyRevocations()
    log({ event: 'hub.tokens.revoked', keyName, targets: results.length, appliesAt: results[0]?.appliesAt })
    return { successCount: results.length, failureCount: 0, results }
  }
}
