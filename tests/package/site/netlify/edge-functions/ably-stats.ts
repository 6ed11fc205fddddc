import { statsEdgeConfig, statsEdgeFunction } from 'ably-netlify-integration/netlify-edge'
export default statsEdgeFunction
export const config = statsEdgeConfig
