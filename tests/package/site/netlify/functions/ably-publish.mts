import { publishNetlifyFunctionFor } from 'ably-netlify-integration/netlify-node'
import { board } from '../../src/policy.ts'
export default publishNetlifyFunctionFor(board)
export const config = { path: '/api/ably/publish', rateLimit: { windowLimit: 120, windowSize: 60, aggregateBy: ['ip', 'domain'] } }
