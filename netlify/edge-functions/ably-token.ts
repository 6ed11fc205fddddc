/** Netlify Edge Function for `/api/ably/token`: the package's own export (src/wiring/netlify-edge.ts), as a site's entry file is. */
import { tokenEdgeConfig, tokenEdgeFunction } from '../../src/wiring/netlify-edge.ts'

export default tokenEdgeFunction
export const config = tokenEdgeConfig
