import { outboxNetlifyFunction } from 'ably-netlify-integration/netlify-node'
export default outboxNetlifyFunction
export const config = { schedule: '* * * * *' }
