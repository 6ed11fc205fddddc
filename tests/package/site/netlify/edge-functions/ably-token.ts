import { tokenEdgeConfig, tokenEdgeFunctionFor } from 'ably-netlify-integration/netlify-edge'
import { board } from '../../src/policy.ts'
export default tokenEdgeFunctionFor(board)
export const config = tokenEdgeConfig
