/** Netlify Edge Function for `/api/ably/presence` (admin roles only): the package's own export (src/wiring/netlify-edge.ts), as a site's entry file is. */
import { presenceEdgeConfig, presenceEdgeFunction } from '../../src/wiring/netlify-edge.ts'

export default presenceEdgeFunction
export const config = presenceEdgeConfig
