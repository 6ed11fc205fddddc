/**
 * The one fixed set of security headers, on every response including errors and 404s. Set in code because
 * Netlify's custom headers never reach edge functions. A handler that serves HTML may set its own CSP.
 */
import type { MiddlewareHandler } from 'hono'
import { secureHeaders } from 'hono/secure-headers'

export function securityHeaders(): MiddlewareHandler {
  return secureHeaders({
    contentSecurityPolicy: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
    xFrameOptions: 'DENY',
    strictTransportSecurity: 'max-age=31536000; includeSubDomains',
    overwrite: false,
  })
}
