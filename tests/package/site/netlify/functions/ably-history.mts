import { historyNetlifyFunctionFor } from 'ably-netlify-integration/netlify-node'
import { board } from '../../src/policy.ts'
export default historyNetlifyFunctionFor(board)
export const config = { path: '/api/ably/history', rateLimit: { windowLimit: 300, windowSize: 60, aggregateBy: ['ip', 'domain'] } }
