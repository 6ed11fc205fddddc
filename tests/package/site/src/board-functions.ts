/** The server side of the site's own policy: the functions a site would export from its entry files. */
import { statsEdgeFunctionFor, tokenEdgeFunctionFor } from 'ably-netlify-integration/netlify-edge'
import { historyNetlifyFunctionFor, publishNetlifyFunctionFor } from 'ably-netlify-integration/netlify-node'
import { board } from './policy.js'

export const handlers = [tokenEdgeFunctionFor(board), statsEdgeFunctionFor(board), publishNetlifyFunctionFor(board), historyNetlifyFunctionFor(board)]
