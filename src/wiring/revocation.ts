/** The Netlify doors of revocation: the deny-list in Netlify Blobs, shared by the token edge function and the revoke function. */
import { createNetlifyBlobsStore } from '../revocation/netlify-blobs.ts'
import { revokeRoutes } from '../revocation/routes.ts'
import { apiHandler, type HandlerBuilder } from './handlers.ts'

/** The Netlify function serving `POST /api/ably/revoke`: the Ably key, JWT, CORS, TTL, admin roles, revocation. */
export const revokeFunction: HandlerBuilder = apiHandler({
  routes: [revokeRoutes],
  settings: ['restUrl', 'tokenTtl', 'adminRoles', 'revocation'],
  revocationStore: createNetlifyBlobsStore(),
})
