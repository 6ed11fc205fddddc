/**
 * The cost of verifying one app JWT: HS256 (`JWT_SECRET`) against provider keys from a JWKS that is already cached
 * (RS256, ES256, EdDSA), side by side in one run, through the same verifier the routes use
 * (`createAppTokenVerifier`). Alternated rounds of a fixed time each; each contender verifies distinct tokens.
 * `npx tsx bench/verify.ts` prints JSON: verifications per second (median of rounds) and the ratio to HS256.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import { createAppTokenVerifier, type AppTokenVerifier } from '../src/auth/app-token.ts'
import { parseConfig } from '../src/config/parse.ts'

const ROUNDS = 7
const ROUND_MS = 400
const TOKENS = 2000
const ABLY_API_KEY = 'benchApp.benchKey:bench-ably-key-secret-0123456789'
const SECRET = 'bench-app-jwt-secret-0123456789-abcdefghijklmnop'
const ISSUER = 'https://id.example.com/'

type Contender = { name: string; verify: AppTokenVerifier; tokens: string[] }

async function main() {
  const algs = ['RS256', 'ES256', 'EdDSA'] as const
  const pairs = await Promise.all(algs.map(async (alg) => ({ alg, ...(await generateKeyPair(alg, { extractable: true })) })))
  const jwks = { keys: await Promise.all(pairs.map(async ({ alg, publicKey }) => ({ ...(await exportJWK(publicKey)), kid: alg, alg, use: 'sig' }))) }
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks)))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`
  const now = Math.floor(Date.now() / 1000)
  const claims = (i: number) => ({ sub: `user-${i}`, iat: now, exp: now + 3600 })

  const hs = createAppTokenVerifier(parseConfig({ ABLY_API_KEY, JWT_SECRET: SECRET }).jwt)
  const keyed = createAppTokenVerifier(parseConfig({ ABLY_API_KEY, JWT_JWKS_URL: jwksUrl, JWT_ISSUER: ISSUER, JWT_AUDIENCE: 'bench' }).jwt)
  const secretKey = new TextEncoder().encode(SECRET)
  const contenders: Contender[] = [
    {
      name: 'HS256 (JWT_SECRET)',
      verify: hs,
      tokens: await Promise.all(
        Array.from({ length: TOKENS }, (_, i) => new SignJWT(claims(i)).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(secretKey)),
      ),
    },
    ...(await Promise.all(
      pairs.map(async ({ alg, privateKey }) => ({
        name: `${alg} (cached JWKS)`,
        verify: keyed,
        tokens: await Promise.all(
          Array.from({ length: TOKENS }, (_, i) =>
            new SignJWT({ ...claims(i), iss: ISSUER, aud: 'bench' }).setProtectedHeader({ alg, kid: alg, typ: 'JWT' }).sign(privateKey),
          ),
        ),
      })),
    )),
  ]
  // Warm up: the first provider token fetches and caches the JWKS; every contender's keys are imported.
  for (const contender of contenders) for (const token of contender.tokens.slice(0, 50)) await contender.verify(token)

  const rates = new Map<string, number[]>(contenders.map((c) => [c.name, []]))
  for (let round = 0; round < ROUNDS; round++) {
    for (const contender of round % 2 === 0 ? contenders : [...contenders].reverse()) {
      let count = 0
      const started = performance.now()
      while (performance.now() - started < ROUND_MS) {
        await contender.verify(contender.tokens[count % TOKENS] as string)
        count++
      }
      rates.get(contender.name)?.push(count / ((performance.now() - started) / 1000))
    }
  }
  server.close()
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0
  const hsRate = median(rates.get(contenders[0]?.name ?? '') ?? [])
  const result = Object.fromEntries(
    contenders.map(({ name }) => {
      const rate = median(rates.get(name) ?? [])
      return [name, { verificationsPerSec: Math.round(rate), microsecondsEach: Math.round(1e6 / rate), costVsHs256: Math.round((hsRate / rate) * 100) / 100 }]
    }),
  )
  console.log(JSON.stringify({ rounds: ROUNDS, roundMs: ROUND_MS, node: process.version, result }, null, 2))
}

await main()
