import { statsEdgeConfig, statsEdgeFunctionFor } from 'ably-netlify-integration/netlify-edge'
import { board } from '../../src/policy.ts'
export default statsEdgeFunctionFor(board)
export const config = statsEdgeConfig
