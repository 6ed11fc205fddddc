/** Netlify Edge Function for `/api/ably/stats`: the package's own export (src/wiring/netlify-edge.ts), as a site's entry file is. */
import { statsEdgeConfig, statsEdgeFunction } from '../../src/wiring/netlify-edge.ts'

export default statsEdgeFunction
export const config = statsEdgeConfig
