/** The OpenAPI document: valid OpenAPI 3.1, every route of the table, and a validator that does catch a wrong answer. */
import SwaggerParser from '@apidevtools/swagger-parser'
import { describe, expect, it } from 'vitest'
import { openApiDocument } from '../../src/contract/openapi.ts'
import { NETLIFY_FUNCTIONS, type NetlifyFunction } from '../../src/deploy/functions.ts'
import { responseProblems } from '../support/openapi.ts'

const document = openApiDocument({ version: '0.0.0-test' }) as {
  openapi: string
  paths: Record<string, Record<string, { description: string; responses: Record<string, unknown> }>>
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json; charset=utf-8', 'X-Request-Id': 'r1', ...headers } })
const url = (path: string) => new URL(path, 'http://localhost')

describe('the OpenAPI document', () => {
  it('is valid OpenAPI 3.1, by a validator of its own (@apidevtools/swagger-parser)', async () => {
    expect(document.openapi).toBe('3.1.0')
    await expect(SwaggerParser.validate(structuredClone(document) as never)).resolves.toBeTruthy()
  })

  it('has every route of the route table, with each method it serves', () => {
    const routes = (Object.values(NETLIFY_FUNCTIONS) as NetlifyFunction[]).filter((fn) => fn.path !== undefined)
    expect(Object.keys(document.paths).sort()).toEqual(routes.map((fn) => fn.path).sort())
    for (const fn of routes)
      expect(Object.keys(document.paths[fn.path as string] ?? {}).sort(), fn.name).toEqual((fn.allow ?? []).map((method) => method.toLowerCase()).sort())
  })

  it('says where the code is stricter than the schema', () => {
    expect(document.paths['/api/ably/publish']?.post?.description).toMatch(/Checked beyond this schema[\s\S]*Ids inside `data`/)
  })

  it('documents the publish answers: 200, 202 queued, and the error codes by status', () => {
    expect(Object.keys(document.paths['/api/ably/publish']?.post?.responses ?? {})).toEqual(
      expect.arrayContaining(['200', '202', '400', '401', '403', '409', '413', '422', '429', '503']),
    )
  })
})

describe('the response validator (tests/support/openapi.ts)', () => {
  const queued = { success: true, status: 'queued', channelName: 'contacts:alice', messageId: 'm1', timestamp: '2026-01-01T00:00:00.000Z' }

  it('accepts a conforming answer', async () => {
    expect(await responseProblems('POST', url('/api/ably/publish'), json(202, queued))).toEqual([])
    expect(await responseProblems('POST', url('/api/ably/publish'), json(403, { error: 'no', code: 'forbidden', requestId: 'r1' }))).toEqual([])
  })

  it('flags a body off the schema, a code of another status, an undocumented status and a missing request id', async () => {
    expect(await responseProblems('POST', url('/api/ably/publish'), json(202, { ...queued, status: 'sent' }))).toEqual([
      expect.stringContaining('POST /api/ably/publish → 202'),
    ])
    expect(await responseProblems('POST', url('/api/ably/publish'), json(403, { error: 'no', code: 'invalid_token', requestId: 'r1' }))).toEqual([
      expect.stringContaining('must be equal to one of the allowed values'),
    ])
    expect(await responseProblems('GET', url('/api/ably/history'), json(418, {}))).toEqual(['GET /api/ably/history → 418: the document lists no 418 answer'])
    const noId = new Response(JSON.stringify(queued), { status: 202, headers: { 'Content-Type': 'application/json' } })
    expect(await responseProblems('POST', url('/api/ably/publish'), noId)).toEqual(['POST /api/ably/publish → 202: no X-Request-Id'])
  })

  it('leaves paths and methods outside the API to their tests', async () => {
    expect(await responseProblems('DELETE', url('/api/ably/publish'), json(405, {}))).toEqual([])
    expect(await responseProblems('GET', url('/nope'), json(404, {}))).toEqual([])
  })
})
