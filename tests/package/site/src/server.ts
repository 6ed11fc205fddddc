/** The site's own Node code: the old guide's default `ablyServer`, the named helpers, and the contract's types. */
import ablyServer, { broadcastContactUpdate, publishMessage, publishPhoneNumberAssignment, type PublishResult } from 'ably-netlify-integration/server'
import type { ErrorBody, PublishResponse } from 'ably-netlify-integration/contract'
import { AppError, type ErrorCode } from 'ably-netlify-integration/errors'
import { nodeFunctionConfig } from 'ably-netlify-integration/netlify-node'

export async function onInboundSms(userId: string, contactId: string, text: string): Promise<PublishResult> {
  return publishMessage(userId, contactId, {
    contactId,
    userId,
    phoneNumberId: 'pn1',
    message: text,
    direction: 'inbound',
    timestamp: new Date().toISOString(),
  })
}

export const sameHelpers: boolean =
  ablyServer.broadcastContactUpdate === broadcastContactUpdate && ablyServer.publishPhoneNumberAssignment === publishPhoneNumberAssignment

export function describeFailure(error: unknown): ErrorCode | undefined {
  return error instanceof AppError ? error.code : undefined
}

export type Answer = PublishResponse | ErrorBody
export const publishConfig = nodeFunctionConfig('ably-publish')
