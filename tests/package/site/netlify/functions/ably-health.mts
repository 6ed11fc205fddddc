import { healthNetlifyFunction } from 'ably-netlify-integration/netlify-node'
export default healthNetlifyFunction
export const config = { path: '/api/ably/health', rateLimit: { windowLimit: 60, windowSize: 60, aggregateBy: ['ip', 'domain'] } }
