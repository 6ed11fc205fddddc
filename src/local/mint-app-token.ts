/** Mints app JWTs the way a host app's login would, for local development only (`npm start`, `npm run dev:token`). */
import { SignJWT } from 'jose'

export interface MintOptions {
  userId: string
  role?: string
  ttlSec?: number
  now?: () => number
  /** More claims, e.g. the memberships a policy reads (`{ teams: ['t1'] }`). */
  claims?: Record<string, unknown>
}

export async function mintAppToken(secret: string, { userId, role = 'user', ttlSec = 3600, now = Date.now, claims = {} }: MintOptions): Promise<string> {
  const iat = Math.floor(now() / 1000)
  return new SignJWT({ ...claims, userId, role })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt(iat)
    .setExpirationTime(iat + ttlSec)
    .sign(new TextEncoder().encode(secret))
}
