/**
 * The Netlify revoke function with a site's own policy (`revokeNetlifyFunctionFor`), as Netlify runs it: the deny-list
 * in Netlify Blobs (their local server on loopback, through the context Netlify hands a function), Ably's revokeTokens
 * on loopback. A member of many teams holds a TokenRequest's token, which carries no revocation key: the function must
 * know the policy to also target the clientId. With the default policy it cannot, which is why the …For variant exists.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BlobsServer } from '@netlify/blobs/server'
import { SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { revokeNetlifyFunction, revokeNetlifyFunctionFor } from '../../src/wiring/netlify-node.ts'
import { teamChat } from '../policy/team-chat.ts'
import { TEST_ABLY_KEY, TEST_JWT_SECRET } from '../support/fixtures.ts'

const TEAMS = Array.from({ length: 100 }, (_, index) => `squad-${String(index).padStart(4, '0')}`)

let blobs: BlobsServer
let blobsDir: string
let ably: Server
const revokeBodies: { targets: string[] }[] = []
const saved = { ...process.env }

beforeAll(async () => {
  blobsDir = await mkdtemp(join(tmpdir(), 'netlify-revoke-'))
  blobs = new BlobsServer({ directory: blobsDir, token: 'revoke-test', port: 0, logger: () => {} })
  const { port } = await blobs.start()
  const edgeURL = `http://127.0.0.1:${port}`
  ably = createServer((req, res) => {
    let text = ''
    req.on('data', (chunk: Buffer) => (text += chunk))
    req.on('end', () => {
      const body = JSON.parse(text) as { targets: string[] }
      revokeBodies.push(body)
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify(body.targets.map((target) => ({ target, issuedBefore: Date.now(), appliesAt: Date.now() }))))
    })
  })
  await new Promise<void>((resolve) => ably.listen(0, '127.0.0.1', resolve))
  Object.assign(process.env, {
    ABLY_API_KEY: TEST_ABLY_KEY,
    JWT_SECRET: TEST_JWT_SECRET,
    ABLY_REST_URL: `http://127.0.0.1:${(ably.address() as AddressInfo).port}`,
    ABLY_REVOCABLE_TOKENS: 'true',
    ABLY_TOKEN_TTL: '600',
    JWT_MEMBERSHIP_CLAIM: '/teams',
    NETLIFY_BLOBS_CONTEXT: Buffer.from(JSON.stringify({ edgeURL, uncachedEdgeURL: edgeURL, token: 'revoke-test', siteID: 'revoke-test' })).toString('base64'),
  })
})

afterAll(async () => {
  process.env = saved
  await blobs.stop()
  await new Promise((resolve) => ably.close(resolve))
  await rm(blobsDir, { recursive: true, force: true })
})

async function appToken(sid: string): Promise<string> {
  const iat = Math.floor(Date.now() / 1000) - 2
  return new SignJWT({ userId: 'ivan', teams: TEAMS, sid })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt(iat)
    .setExpirationTime(iat + 3600)
    .sign(new TextEncoder().encode(TEST_JWT_SECRET))
}

const revoke = async (handler: (request: Request) => Promise<Response>, sid: string) => {
  revokeBodies.length = 0
  const res = await handler(
    new Request('https://site.example/api/ably/revoke', { method: 'POST', headers: { Authorization: `Bearer ${await appToken(sid)}` } }),
  )
  return { status: res.status, targets: revokeBodies.flatMap((body) => body.targets) }
}

describe('the Netlify revoke function', () => {
  it('with the site’s policy, a session holding a TokenRequest’s token is revoked by its key and its clientId', async () => {
    const { status, targets } = await revoke(revokeNetlifyFunctionFor(teamChat), 'phone')
    expect(status).toBe(200)
    expect(targets).toHaveLength(2)
    expect(targets).toContain('clientId:ivan')
    expect(targets.filter((target) => target.startsWith('revocationKey:'))).toHaveLength(1)
  })

  it('with the default policy (the SMS inbox), the same caller fits an Ably JWT: its session key alone', async () => {
    const { status, targets } = await revoke(revokeNetlifyFunction, 'laptop')
    expect(status).toBe(200)
    expect(targets).toEqual([expect.stringMatching(/^revocationKey:/)])
  })
})
