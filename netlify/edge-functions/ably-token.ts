/** Netlify Edge Function for `/api/ably/token`. The config is read and checked on the first request, not at import. */
import type { Config } from '@netlify/edge-functions'
import { ABLY_TOKEN, edgeFunctionConfig } from '../../src/deploy/functions.ts'
import { apiHandler, lazyHandler } from '../../src/wiring/handlers.ts'
import { tokenRoutes } from '../../src/routes/token.ts'
import { lazyNetlifyBlobsStore } from '../../src/revocation/lazy.ts'

export default lazyHandler(
  () => Netlify.env.toObject(),
  apiHandler({ routes: [tokenRoutes], settings: ['tokenTtl', 'revocation'], revocationStore: lazyNetlifyBlobsStore() }),
)

export const config: Config = edgeFunctionConfig(ABLY_TOKEN)
