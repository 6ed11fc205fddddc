import { revokeNetlifyFunctionFor } from 'ably-netlify-integration/netlify-node'
import { board } from '../../src/policy.ts'
export default revokeNetlifyFunctionFor(board)
export const config = { path: '/api/ably/revoke', rateLimit: { windowLimit: 30, windowSize: 60, aggregateBy: ['ip', 'domain'] } }
