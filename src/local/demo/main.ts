/**
 * The demo page's script: the browser client from src/client, as an app would use it. Sign in as a demo user,
 * read and send messages through the gateway, and watch the connection recover when the hub stops and starts.
 */
import { RealtimePresence } from 'ably/modular'
import { createAblyService, fetchHistory, HistoryError, type ClientLogEvent, type ConversationEvent, type ServiceStateChange } from '../../client/index.ts'
import type { DemoConfig } from './site.ts'

const CONTACTS = [
  { id: 'c1', name: 'Carol' },
  { id: 'c2', name: 'Dan' },
  { id: 'c3', name: 'Erin' },
] as const
const MAX_EVENTS = 200
const ONLINE_REFRESH_MS = 2000

/** A message on screen. `deliveries` counts what the client delivered: 0 when it came with the page's first load. */
interface Shown {
  id: string
  text: string
  direction: string
  sentAt: number
  source: 'loaded' | 'live' | 'history'
  deliveries: number
}

const element = <T extends HTMLElement>(id: string, type: new () => T): T => {
  const found = document.getElementById(id)
  if (!(found instanceof type)) throw new Error(`The page has no #${id}`)
  return found
}

const ui = {
  login: element('login', HTMLFormElement),
  user: element('user', HTMLSelectElement),
  ttl: element('ttl', HTMLSelectElement),
  jwt: element('jwt', HTMLInputElement),
  state: element('state', HTMLOutputElement),
  stateDetail: element('state-detail', HTMLElement),
  who: element('who', HTMLElement),
  conversations: element('conversations', HTMLUListElement),
  threadTitle: element('thread-title', HTMLElement),
  messages: element('messages', HTMLOListElement),
  send: element('send', HTMLFormElement),
  direction: element('direction', HTMLSelectElement),
  text: element('text', HTMLInputElement),
  hubControls: element('hub-controls', HTMLElement),
  hubStop: element('hub-stop', HTMLButtonElement),
  hubStart: element('hub-start', HTMLButtonElement),
  signOut: element('sign-out', HTMLButtonElement),
  onlinePanel: element('online-panel', HTMLElement),
  online: element('online', HTMLUListElement),
  events: element('events', HTMLOListElement),
}

let session: { userId: string; token: string } | undefined
let selected: string = CONTACTS[0].id
const threads = new Map<string, Map<string, Shown>>()
const unread = new Map<string, number>()

const config = (await (await fetch('/demo/config.json')).json()) as DemoConfig
// Presence on: the "Online" list shows it (two billed Ably messages per page session on real Ably).
const service = createAblyService({ getAppToken: () => session?.token, ably: config.ably, log: logClientEvent, presence: RealtimePresence })
service.onConnectionStateChange(showState)

element('user-field', HTMLElement).hidden = !config.devLogin
element('ttl-field', HTMLElement).hidden = !config.devLogin
element('jwt-field', HTMLElement).hidden = config.devLogin
ui.hubControls.hidden = !config.hubControl
ui.onlinePanel.hidden = !config.devLogin
renderConversations()
renderThread()
if (config.devLogin) {
  void refreshOnline()
  setInterval(() => void refreshOnline(), ONLINE_REFRESH_MS)
}

ui.login.addEventListener('submit', (event) => {
  event.preventDefault()
  signIn().catch((error: unknown) => signedOut(errorText(error)))
})
ui.send.addEventListener('submit', (event) => {
  event.preventDefault()
  send().catch((error: unknown) => log(`Send failed: ${errorText(error)}`))
})
ui.signOut.addEventListener('click', signOut)
ui.hubStop.addEventListener('click', () => void hub('stop'))
ui.hubStart.addEventListener('click', () => void hub('start'))

/**
 * Signs in, or ends in one clear state: a pasted value that is not a JWT, or a JWT the API refuses, is reported once,
 * and the page stays signed out (no "Signed in", no connection, no attach errors).
 */
async function signIn() {
  let next: { userId: string; token: string }
  try {
    next = config.devLogin ? await devSession(ui.user.value, Number(ui.ttl.value)) : pastedSession(ui.jwt.value.trim())
  } catch (error) {
    return signedOut(errorText(error))
  }
  service.disconnect()
  session = undefined
  threads.clear()
  unread.clear()
  // The API decides whether the JWT is good before the page says anything: one history read.
  try {
    await loadThread(next, CONTACTS[0].id)
  } catch (error) {
    if (error instanceof HistoryError && (error.status === 401 || error.status === 403))
      return signedOut('the API refused this app JWT: it is invalid or expired')
    throw error
  }
  session = next
  ui.who.textContent = `Signed in as ${next.userId}`
  log(`Signed in as ${next.userId}`)
  for (const { id } of CONTACTS) service.subscribeToConversation(id, next.userId, (message) => receive(id, message))
  service.subscribeToContactUpdates(next.userId, ({ data }) => log(`Contacts: ${data.action}`))
  service.subscribeToNotifications(next.userId, ({ name }) => log(`Notification: ${name}`))
  const connected = service.connect()
  ui.signOut.hidden = false
  await Promise.all(CONTACTS.slice(1).map(({ id }) => loadThread(next, id)))
  renderConversations()
  renderThread()
  await connected
  void refreshOnline()
}

/** Leaves presence and closes the connection, as an app's logout would. */
function signOut() {
  service.disconnect()
  session = undefined
  ui.signOut.hidden = true
  ui.who.textContent = 'Not signed in'
  log('Signed out')
  void refreshOnline()
}

/** The demo users, each marked online (with how many pages) or offline, from the server's view of Ably presence. */
async function refreshOnline() {
  const userIds = [...ui.user.options].map((option) => option.value)
  const res = await post('/dev/online', { userIds }).catch(() => undefined)
  if (!res?.ok) return
  const { users } = (await res.json()) as { users: { userId: string; online: boolean; connections: number }[] }
  ui.online.replaceChildren(
    ...users.map(({ userId, online, connections }) => {
      const item = Object.assign(document.createElement('li'), {
        textContent: online ? `${userId} · online (${connections} ${connections === 1 ? 'page' : 'pages'})` : `${userId} · offline`,
      })
      Object.assign(item.dataset, { user: userId, online: String(online), connections: String(connections) })
      return item
    }),
  )
}

async function devSession(userId: string, ttlSec: number) {
  const res = await post('/dev/session', { userId, ttlSec })
  if (!res.ok) throw new Error(`the dev login answered ${res.status}`)
  const { token } = (await res.json()) as { token: string }
  return { userId, token }
}

/** A JWT pasted by hand; its `userId` (or `sub`) claim names the channels to read (the server checks the signature). */
function pastedSession(token: string) {
  const notAJwt = new Error('that is not an app JWT (three base64url parts, with a userId claim); mint one with npm run -s dev:token')
  const [, payload, signature] = token.split('.')
  if (!payload || signature === undefined || !/^[\w-]+\.[\w-]+\.[\w-]*$/.test(token)) throw notAJwt
  let claims: { userId?: unknown; sub?: unknown }
  try {
    claims = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as { userId?: unknown; sub?: unknown }
  } catch {
    throw notAJwt
  }
  const userId = claims?.userId ?? claims?.sub
  if (typeof userId !== 'string') throw notAJwt
  return { userId, token }
}

/** The one state a refused sign-in ends in. */
function signedOut(why: string) {
  service.disconnect()
  session = undefined
  ui.who.textContent = 'Not signed in'
  ui.state.value = 'unauthorized'
  ui.state.dataset.state = 'unauthorized'
  ui.stateDetail.textContent = `Sign-in refused: ${why}.`
  log(`Sign-in refused: ${why}`)
  renderConversations()
  renderThread()
}

/** The conversation's last messages, as the page finds them when it opens. */
async function loadThread(owner: { userId: string; token: string }, contactId: string) {
  const { messages } = await fetchHistory(
    { historyUrl: '/api/ably/history', appToken: owner.token },
    { channelName: `sms:${owner.userId}:${contactId}`, limit: 50 },
  )
  const thread = threadOf(contactId)
  for (const item of messages) {
    if (item.name !== 'message' || thread.has(item.id)) continue
    const data = item.data as { message?: unknown; direction?: unknown; timestamp?: unknown }
    thread.set(item.id, {
      id: item.id,
      text: String(data.message),
      direction: String(data.direction),
      sentAt: Date.parse(String(data.timestamp)),
      source: 'loaded',
      deliveries: 0,
    })
  }
}

function receive(contactId: string, message: ConversationEvent) {
  if (message.name === 'message_status') {
    log(`Message ${message.data.messageId}: ${message.data.status}`)
    return
  }
  const thread = threadOf(contactId)
  const shown = thread.get(message.id)
  if (shown) {
    shown.deliveries += 1
    shown.source = message.source
  } else {
    const { data } = message
    thread.set(message.id, {
      id: message.id,
      text: data.message,
      direction: data.direction,
      sentAt: Date.parse(data.timestamp),
      source: message.source,
      deliveries: 1,
    })
  }
  if (message.source === 'history') log(`Recovered a missed message in ${CONTACTS.find(({ id }) => id === contactId)?.name ?? contactId}`)
  if (contactId !== selected) unread.set(contactId, (unread.get(contactId) ?? 0) + 1)
  renderConversations()
  if (contactId === selected) renderThread()
}

async function send() {
  if (!session) throw new Error('sign in first')
  const text = ui.text.value.trim()
  if (!text) return
  const { userId, token } = session
  const res = await fetch('/api/ably/publish', {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', 'Idempotency-Key': crypto.randomUUID() },
    body: JSON.stringify({
      channelName: `sms:${userId}:${selected}`,
      eventName: 'message',
      data: { contactId: selected, userId, phoneNumberId: 'pn1', message: text, direction: ui.direction.value, timestamp: new Date().toISOString() },
    }),
  })
  const body = (await res.json()) as { status?: string; code?: string }
  if (!res.ok) throw new Error(body.code ?? `status ${res.status}`)
  ui.text.value = ''
  log(body.status === 'queued' ? 'Sent: the gateway stored it and will deliver it when Ably is back' : 'Sent and published')
}

async function hub(action: 'stop' | 'start') {
  const res = await post(`/dev/hub/${action}`, {})
  log(res.ok ? `Hub ${((await res.json()) as { hub: string }).hub}` : `The hub could not ${action} (${res.status})`)
}

function showState({ current, reason, retryIn }: ServiceStateChange) {
  ui.state.value = current
  ui.state.dataset.state = current
  const detail =
    current === 'unauthorized'
      ? 'The app session has ended. Sign in again.'
      : retryIn !== undefined
        ? `retrying in ${Math.round(retryIn / 1000)} s`
        : (reason?.message ?? '')
  ui.stateDetail.textContent = detail
  log(`Connection ${current}${detail ? `: ${detail}` : ''}`)
}

function logClientEvent(event: ClientLogEvent) {
  if (event.event === 'backfill') log(`Backfill of ${event.channelName}: ${event.delivered} missed`)
  else if (event.event === 'backfill_failed') log(`Backfill of ${event.channelName} failed (${event.status})`)
  else if (event.event === 'presence_failed') log(`Could not ${event.action} presence on ${event.channelName} (${event.code ?? 'no code'})`)
  // Once the session has ended, failed attaches are its consequence, not news: the state already says so.
  else if (ui.state.dataset.state !== 'unauthorized') log(`Could not attach ${event.channelName} (${event.code ?? 'no code'})`)
}

function renderConversations() {
  ui.conversations.replaceChildren(
    ...CONTACTS.map(({ id, name }) => {
      const button = document.createElement('button')
      button.type = 'button'
      button.dataset.contact = id
      button.setAttribute('aria-current', String(id === selected))
      const badge = Object.assign(document.createElement('span'), { className: 'badge', textContent: unread.get(id) ? String(unread.get(id)) : '' })
      button.append(name, badge)
      button.addEventListener('click', () => {
        selected = id
        unread.delete(id)
        renderConversations()
        renderThread()
      })
      const item = document.createElement('li')
      item.append(button)
      return item
    }),
  )
}

function renderThread() {
  const contact = CONTACTS.find(({ id }) => id === selected)
  ui.threadTitle.textContent = contact ? `Conversation with ${contact.name}` : 'Conversation'
  const shown = [...threadOf(selected).values()].sort((a, b) => a.sentAt - b.sentAt)
  ui.messages.replaceChildren(
    ...shown.map(({ id, text, direction, sentAt, source, deliveries }) => {
      const item = document.createElement('li')
      item.className = direction
      Object.assign(item.dataset, { id, source, deliveries: String(deliveries) })
      const body = Object.assign(document.createElement('p'), { textContent: text })
      const meta = Object.assign(document.createElement('small'), { textContent: `${new Date(sentAt).toLocaleTimeString()} · ${source}` })
      item.append(body, meta)
      return item
    }),
  )
  ui.messages.lastElementChild?.scrollIntoView({ block: 'nearest' })
}

function threadOf(contactId: string): Map<string, Shown> {
  const thread = threads.get(contactId) ?? new Map<string, Shown>()
  threads.set(contactId, thread)
  return thread
}

function log(text: string) {
  const time = Object.assign(document.createElement('time'), { textContent: new Date().toLocaleTimeString() })
  const item = document.createElement('li')
  item.append(time, text)
  ui.events.prepend(item)
  while (ui.events.childElementCount > MAX_EVENTS) ui.events.lastElementChild?.remove()
}

function post(path: string, body: unknown) {
  return fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) })
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
