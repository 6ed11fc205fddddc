/**
 * Alternative (b): Express 5 with `jsonwebtoken`, as in Ably's JWT docs: verify the app JWT, then sign an Ably JWT
 * (`kid` = key name) with the key secret. Once with the secrets as strings (as the docs show) and once as KeyObjects.
 */
import { createSecretKey, type KeyObject } from 'node:crypto'
import express, { type Express } from 'express'
import jwt from 'jsonwebtoken'
import { isValidId, userCapability } from '../../../src/channels/index.ts'
import { ABLY_KEY_NAME, ABLY_KEY_SECRET, JWT_SECRET, TOKEN_PATH, TTL_SEC } from '../fixtures.ts'

export type SecretForm = 'string' | 'keyObject'

/** The Express app, with both secrets in `form`. */
export function expressJwtApp(form: SecretForm): Express {
  const secret = (text: string): string | KeyObject => (form === 'string' ? text : createSecretKey(Buffer.from(text)))
  const appSecret = secret(JWT_SECRET)
  const ablySecret = secret(ABLY_KEY_SECRET)
  const app = express()
  app.disable('x-powered-by')
  app.post(TOKEN_PATH, (req, res) => {
    const token = /^Bearer (\S+)$/i.exec(req.get('authorization') ?? '')?.[1]
    let userId: unknown
    try {
      const claims = jwt.verify(token ?? '', appSecret, { algorithms: ['HS256'] })
      userId = typeof claims === 'object' ? claims.userId : undefined
    } catch {
      res.status(401).json({ error: 'unauthorized' })
      return
    }
    if (!isValidId(userId)) {
      res.status(401).json({ error: 'unauthorized' })
      return
    }
    const iat = Math.floor(Date.now() / 1000)
    const claims = { iat, exp: iat + TTL_SEC, 'x-ably-capability': JSON.stringify(userCapability(userId)), 'x-ably-clientId': userId }
    const ablyToken = jwt.sign(claims, ablySecret, { header: { typ: 'JWT', alg: 'HS256', kid: ABLY_KEY_NAME } })
    res.set('Cache-Control', 'no-store').json({ token: ablyToken })
  })
  return app
}
