/** The default (SMS inbox) token entry, as a site without a policy of its own writes it: the consumer test compares its size. */
import { tokenEdgeConfig, tokenEdgeFunction } from 'ably-netlify-integration/netlify-edge'
export default tokenEdgeFunction
export const config = tokenEdgeConfig
