import { publishNetlifyFunction } from 'ably-netlify-integration/netlify-node'
export default publishNetlifyFunction
export const config = { path: '/api/ably/publish', rateLimit: { windowLimit: 120, windowSize: 60, aggregateBy: ['ip', 'domain'] } }
