/**
 * The second cold-start baseline: a bare Hono app doing the token job with the same library and nothing else: jose
 * verifies the app JWT and signs an Ably JWT. No config check, middleware, error vocabulary or logging.
 */
import { Hono } from 'hono'
import { jwtVerify, SignJWT } from 'jose'

const encoder = new TextEncoder()

const app = new Hono().post('/api/ably/token', async (c) => {
  const env = Netlify.env.toObject()
  const [keyName = '', keySecret = ''] = (env.ABLY_API_KEY ?? '').split(':')
  const { payload } = await jwtVerify((c.req.header('authorization') ?? '').slice(7), encoder.encode(env.JWT_SECRET), { algorithms: ['HS256'] })
  const userId = String(payload.userId)
  const capability = JSON.stringify({ [`sms:${userId}:*`]: ['history', 'subscribe'] })
  const token = await new SignJWT({ 'x-ably-clientId': userId, 'x-ably-capability': capability })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: keyName })
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(encoder.encode(keySecret))
  return c.json({ token })
})

export default (request: Request) => app.fetch(request)
