/**
 * Revocation on live connections, as Ably applies it: a connection whose token is revoked gets DISCONNECTED with
 * 40141 (ably-js then asks its `authCallback` for a new token, which the app's token endpoint may refuse); with
 * `allowReauthMargin` it is first prompted with AUTH to renew, and disconnected only if it still holds the revoked
 * token when the margin ends.
 */
import { HubError, toErrorInfo } from '../errors.ts'
import { Action } from '../protocol.ts'
import { TOKEN_REVOKED } from '../revocation.ts'
import { closeLink, send, type RealtimeState } from './state.ts'

/** Disconnects every live connection whose token is revoked now; its state stays for a resume with a new token. */
export function disconnectRevoked(state: RealtimeState): void {
  for (const session of [...state.sessions.values()]) {
    const link = session.link
    if (!link || !state.authority.isRevoked(session.credential)) continue
    send(state, link, { action: Action.DISCONNECTED, error: toErrorInfo(new HubError(TOKEN_REVOKED, 'Token revoked', 401)) })
    closeLink(state, link, false)
    state.log({ event: 'hub.connection.token_revoked', connectionId: session.id })
  }
}

/** After a revocation: disconnects the connections it covers now, and prompts those it will cover after its margin. */
export function applyRevocations(state: RealtimeState): void {
  disconnectRevoked(state)
  for (const session of state.sessions.values()) {
    if (session.link && state.authority.isRevocationPending(session.credential)) send(state, session.link, { action: Action.AUTH })
  }
}
