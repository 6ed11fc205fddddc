import { tokenEdgeConfig, tokenEdgeFunction } from 'ably-netlify-integration/netlify-edge'
export default tokenEdgeFunction
export const config = tokenEdgeConfig
