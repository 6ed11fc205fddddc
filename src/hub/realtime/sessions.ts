/**
 * Connections and their credentials: opening (with resume and recover), re-authentication over AUTH,
 * renewal prompts and token expiry, errors that end a connection, and the sweep of idle and expired state.
 */
import type { IncomingHttpHeaders } from 'node:http'
import { resolveIdentity, type Credential, type Identity } from '../auth.ts'
import { asHubError, HubError, toErrorInfo } from '../errors.ts'
import { createInboundLimiter } from '../limits.ts'
import { Action } from '../protocol.ts'
import { TOKEN_REVOKED } from '../revocation.ts'
import { narrowAttachments } from './attachments.ts'
import { disconnectRevoked } from './revocation.ts'
import { leavePresence } from './presence.ts'
import { closeLink, send, unlink, type Frame, type Link, type RealtimeState, type Session } from './state.ts'

const MAX_SESSIONS = 10_000
// Ably removes the presence members of a connection that dropped without resuming after 15 s.
const PRESENCE_GRACE_MS = 15_000
// Ably prompts token renewal 30 s before expiry.
const AUTH_PROMPT_MARGIN_MS = 30_000
const CONNECTION_KEY = /^[\w-]+![\w-]+$/
const isTokenError = (code: number) => code >= 40140 && code < 40150

/** Ends a connection: its state, subscriptions and presence go. */
export function endSession(state: RealtimeState, session: Session, reason: string): void {
  if (session.link) unlink(state, session)
  state.sessions.delete(session.key)
  leavePresence(state, session)
  state.log({ event: 'hub.connection.ended', connectionId: session.id, reason })
}

/** Reports a connection-level error and closes the socket; token errors keep state so the client can resume. */
export function failLink(state: RealtimeState, link: Link, error: HubError): void {
  send(state, link, { action: Action.ERROR, error: toErrorInfo(error) })
  const session = link.session
  closeLink(state, link, false)
  if (session && !isTokenError(error.code)) endSession(state, session, `error ${error.code}`)
  state.log({ event: 'hub.connection.failed', connectionId: session?.id, code: error.code })
}

const expired = (state: RealtimeState, session: Session, time: number) =>
  session.disconnectedAt !== undefined && time - session.disconnectedAt >= state.connectionStateTtlMs

function connectionDetails(state: RealtimeState, session: Session) {
  return {
    connectionKey: session.key,
    clientId: session.identity.clientId ?? (session.identity.wildcard ? '*' : undefined),
    maxMessageSize: state.maxMessageSize,
    maxInboundRate: state.maxInboundRate,
    maxFrameSize: state.maxFrameSize,
    connectionStateTtl: state.connectionStateTtlMs,
    maxIdleInterval: state.maxIdleIntervalMs,
    serverId: 'hub',
  }
}

function applyCredential(session: Session, credential: Credential, identity: Identity): void {
  session.credential = credential
  session.identity = identity
  // Ably prompts renewal 30 s before expiry. A token that never lives to that moment (a 5 s token, or a renewal
  // issued after it) is not prompted: it ends with DISCONNECTED 40142, after which ably-js renews. A prompt that
  // came due while the client was away is sent when it comes back.
  const { expiresAt, issuedAt } = credential
  const promptAt = expiresAt === undefined ? undefined : expiresAt - AUTH_PROMPT_MARGIN_MS
  session.authPromptAt = promptAt !== undefined && (issuedAt === undefined || promptAt >= issuedAt) ? promptAt : undefined
}

async function authenticate(state: RealtimeState, params: URLSearchParams, headers: IncomingHttpHeaders): Promise<Credential> {
  try {
    const key = params.get('key')
    if (key !== null) return state.authority.authenticateKey(key)
    const token = params.get('access_token') ?? params.get('accessToken')
    if (token !== null) return await state.authority.authenticateToken(token)
    return await state.authority.authenticateHeader(headers.authorization ?? null)
  } catch (error) {
    // Over REST an unknown key is 40400; a realtime connection that names one is refused as unauthorized.
    if (error instanceof HubError && error.code === 40400) throw new HubError(40101, 'Invalid key: no such key', 401)
    throw error
  }
}

/** A fresh connection key for a connection: a resumed or recovered connection gets a new one, as on Ably. */
const connectionKey = (state: RealtimeState, id: string) => `${state.randomId(18)}!${id}`

function newSession(state: RealtimeState, credential: Credential, identity: Identity): Session {
  if (state.sessions.size >= MAX_SESSIONS) {
    const idle = [...state.sessions.values()].find((session) => !session.link)
    if (idle) endSession(state, idle, 'evicted')
  }
  const id = state.randomId(8)
  const session: Session = {
    id,
    key: connectionKey(state, id),
    credential,
    identity,
    echo: true,
    attachments: new Map(),
    replies: new Map(),
    repliedSerials: 0,
    lastMsgSerial: -1,
    limitInbound: createInboundLimiter(state.maxInboundRate, state.now),
    presenceReleased: false,
  }
  state.sessions.set(session.key, session)
  return session
}

/** Authenticates a new socket from its query and headers, resuming connection state it names; answers CONNECTED. */
export async function openConnection(state: RealtimeState, link: Link, params: URLSearchParams, headers: IncomingHttpHeaders): Promise<void> {
  let credential: Credential
  let identity: Identity
  const requestedClientId = params.get('clientId') ?? undefined
  try {
    credential = await authenticate(state, params, headers)
    identity = resolveIdentity(credential, requestedClientId)
  } catch (error) {
    failLink(state, link, asHubError(error))
    return
  }
  const recovering = params.get('resume') === null && params.get('recover') !== null
  const resumeKey = params.get('resume') ?? params.get('recover')
  let session: Session | undefined
  let error: HubError | undefined
  if (resumeKey !== null) {
    let candidate = state.sessions.get(resumeKey)
    // The sweep may not have run yet (e.g. just after a restart), so the TTL is checked here too.
    if (candidate && expired(state, candidate, state.now())) {
      endSession(state, candidate, 'expired')
      candidate = undefined
    }
    const compatible =
      candidate !== undefined &&
      candidate.identity.clientId === identity.clientId &&
      candidate.credential.keyName.split('.')[0] === credential.keyName.split('.')[0]
    if (compatible) session = candidate
    else if (recovering || !CONNECTION_KEY.test(resumeKey)) error = new HubError(80018, 'Invalid connection key', 400)
    else error = new HubError(80008, 'Unable to resume connection: connection expired', 400)
  }
  if (session) {
    // The old key is spent: a client still holding it (the one a recovery took over from) cannot take it back.
    if (session.link) closeLink(state, session.link, true)
    state.sessions.delete(session.key)
    session.key = connectionKey(state, session.id)
    state.sessions.set(session.key, session)
  }
  session ??= newSession(state, credential, identity)
  applyCredential(session, credential, identity)
  session.requestedClientId = requestedClientId
  session.echo = params.get('echo') !== 'false'
  session.link = link
  session.disconnectedAt = undefined
  link.session = session
  send(state, link, {
    action: Action.CONNECTED,
    connectionId: session.id,
    connectionKey: session.key,
    connectionDetails: connectionDetails(state, session),
    error: error && toErrorInfo(error),
  })
  state.log({
    event: resumeKey !== null && !error ? 'hub.connection.resumed' : 'hub.connection.opened',
    connectionId: session.id,
    clientId: session.identity.clientId,
    keyName: credential.keyName,
    format: link.format,
    resumeFailed: error?.code,
  })
}

/** Answers an AUTH frame: a new token for the same clientId replaces the old one and may narrow attachments. */
export async function reauthorize(state: RealtimeState, link: Link, session: Session, frame: Frame): Promise<void> {
  const { auth } = frame
  const token = typeof auth === 'object' && auth !== null ? (auth as Record<string, unknown>).accessToken : undefined
  if (typeof token !== 'string') throw new HubError(40101, 'AUTH needs an accessToken', 401)
  let credential: Credential
  try {
    credential = await state.authority.authenticateToken(token)
  } catch (error) {
    const hubError = asHubError(error)
    throw hubError.code === 40142 || hubError.code === TOKEN_REVOKED ? hubError : new HubError(40101, 'Invalid token on re-authentication', 401)
  }
  const identity = resolveIdentity(credential, session.requestedClientId)
  if (identity.clientId !== session.identity.clientId) {
    throw new HubError(40102, 'Re-authentication may not change the clientId', 401)
  }
  applyCredential(session, credential, identity)
  narrowAttachments(state, link, session, credential.capability)
  send(state, link, {
    action: Action.CONNECTED,
    connectionId: session.id,
    connectionKey: session.key,
    connectionDetails: connectionDetails(state, session),
  })
  state.log({ event: 'hub.connection.reauthorized', connectionId: session.id })
}

/** Idle heartbeats, token renewal prompts and expiry, expiry of detached connection state. */
export function sweepSessions(state: RealtimeState): void {
  const time = state.now()
  disconnectRevoked(state)
  for (const session of [...state.sessions.values()]) {
    const link = session.link
    if (link) {
      const { expiresAt } = session.credential
      if (expiresAt !== undefined && time >= expiresAt) {
        send(state, link, { action: Action.DISCONNECTED, error: toErrorInfo(new HubError(40142, 'Token expired', 401)) })
        closeLink(state, link, false)
        state.log({ event: 'hub.connection.token_expired', connectionId: session.id })
        continue
      }
      if (session.authPromptAt !== undefined && time >= session.authPromptAt) {
        session.authPromptAt = undefined
        send(state, link, { action: Action.AUTH })
      }
      if (state.maxIdleIntervalMs > 0 && time - link.lastSentAt >= state.maxIdleIntervalMs) {
        send(state, link, { action: Action.HEARTBEAT })
      }
      continue
    }
    if (expired(state, session, time)) endSession(state, session, 'expired')
    else if (time - (session.disconnectedAt ?? time) >= PRESENCE_GRACE_MS && !session.presenceReleased) {
      session.presenceReleased = true
      leavePresence(state, session)
    }
  }
  state.store.prune()
}
