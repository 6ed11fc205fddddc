/**
 * The third cold-start baseline: a bare Hono app doing the least any token endpoint must do on Deno, without jose:
 * one HMAC-SHA256 verification (the app JWT) and one HMAC-SHA256 signature (the Ably JWT) with WebCrypto. No claim
 * checks, no config, no middleware: the platform's floor for the token job.
 */
import { Hono } from 'hono'

const encoder = new TextEncoder()
const b64url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '')
const fromB64url = (text: string) => Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (char) => char.charCodeAt(0))
const hmac = (secret: string, usage: 'sign' | 'verify') =>
  crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [usage])

const app = new Hono().post('/api/ably/token', async (c) => {
  const env = Netlify.env.toObject()
  const [keyName = '', keySecret = ''] = (env.ABLY_API_KEY ?? '').split(':')
  const [header = '', payload = '', signature = ''] = (c.req.header('authorization') ?? '').slice(7).split('.')
  const valid = await crypto.subtle.verify('HMAC', await hmac(env.JWT_SECRET ?? '', 'verify'), fromB64url(signature), encoder.encode(`${header}.${payload}`))
  if (!valid) return c.json({ error: 'invalid' }, 401)
  const userId = String(JSON.parse(new TextDecoder().decode(fromB64url(payload))).userId)
  const iat = Math.floor(Date.now() / 1000)
  const claims = { iat, exp: iat + 3600, 'x-ably-clientId': userId, 'x-ably-capability': JSON.stringify({ [`sms:${userId}:*`]: ['history', 'subscribe'] }) }
  const input = `${b64url(encoder.encode(JSON.stringify({ typ: 'JWT', alg: 'HS256', kid: keyName })))}.${b64url(encoder.encode(JSON.stringify(claims)))}`
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', await hmac(keySecret, 'sign'), encoder.encode(input)))
  return c.json({ token: `${input}.${b64url(mac)}` })
})

export default (request: Request) => app.fetch(request)
