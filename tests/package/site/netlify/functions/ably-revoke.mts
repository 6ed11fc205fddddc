import { revokeNetlifyFunction } from 'ably-netlify-integration/netlify-node'
export default revokeNetlifyFunction
export const config = { path: '/api/ably/revoke', rateLimit: { windowLimit: 30, windowSize: 60, aggregateBy: ['ip', 'domain'] } }
