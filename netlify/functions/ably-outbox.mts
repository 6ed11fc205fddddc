/** Netlify Scheduled Function: every minute, republishes what is still pending in the outbox. */
import type { Config } from '@netlify/functions'
import { nodeGatewayFromEnv } from '../../src/gateway/node.ts'

const { gateway } = nodeGatewayFromEnv(process.env, { requireDurableStore: true })

export default async () => Response.json(await gateway.sweep())

export const config: Config = { schedule: '* * * * *' }
