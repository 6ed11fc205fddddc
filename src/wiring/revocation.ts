/** The Netlify doors of revocation: the deny-list in Netlify Blobs, shared by the token edge function and the revoke function. */
import type { ChannelsPolicy } from '../policy/index.ts'
import { createNetlifyBlobsStore } from '../revocation/netlify-blobs.ts'
import { revokeRoutes } from '../revocation/routes.ts'
import { apiHandler, type HandlerBuilder } from './handlers.ts'

/**
 * The Netlify function serving `POST /api/ably/revoke` for a policy (the SMS inbox by default): the Ably key, JWT,
 * CORS, TTL, admin roles, revocation. The policy tells it which sessions hold a TokenRequest's token (a capability too
 * large for an Ably JWT), whose revoke must also target the clientId.
 */
export const revokeFunctionFor = (policy?: ChannelsPolicy): HandlerBuilder =>
  apiHandler({
    routes: [revokeRoutes],
    settings: ['restUrl', 'tokenTtl', 'adminRoles', 'revocation'],
    revocationStore: createNetlifyBlobsStore(),
    ...(policy && { policy }),
  })

/** `revokeFunctionFor` the SMS inbox. */
export const revokeFunction: HandlerBuilder = revokeFunctionFor()
