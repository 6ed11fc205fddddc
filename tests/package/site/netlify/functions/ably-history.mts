import { historyNetlifyFunction } from 'ably-netlify-integration/netlify-node'
export default historyNetlifyFunction
export const config = { path: '/api/ably/history', rateLimit: { windowLimit: 300, windowSize: 60, aggregateBy: ['ip', 'domain'] } }
