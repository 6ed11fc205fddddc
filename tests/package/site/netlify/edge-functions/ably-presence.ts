import { presenceEdgeConfig, presenceEdgeFunction } from 'ably-netlify-integration/netlify-edge'
export default presenceEdgeFunction
export const config = presenceEdgeConfig
