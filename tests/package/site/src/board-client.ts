/** The browser side of the site's own policy: subscriptions typed from its declaration. */
import { createPolicyService } from 'ably-netlify-integration/client'
import { board } from './policy.js'

const service = createPolicyService(board, { tokenUrl: '/api/ably/token' })
export const stop = service.subscribe('board', { teamId: 't1' }, (message) => {
  const title: string = message.data.title
  console.log(title)
})
