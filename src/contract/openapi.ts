/**
 * The OpenAPI 3.1 document of every route, generated from the wire contract's zod schemas (zod 4's own JSON Schema
 * output, draft 2020-12, which is OpenAPI 3.1's dialect) and the route table (`NETLIFY_FUNCTIONS`). The package ships
 * it as `dist/openapi.json` (`ably-netlify-integration/openapi.json`), the local stack serves it at
 * `/api/ably/openapi.json`, and the test suite checks every answer it receives against it (tests/support/openapi.ts).
 *
 * A route of the table without an operation here throws: a new route cannot ship undocumented.
 */
import { z } from 'zod'
import { NETLIFY_FUNCTIONS, type NetlifyFunction } from '../deploy/functions.ts'
import { errorStatus, type ErrorCode } from '../errors/index.ts'
import {
  BatchPublishResponse,
  ErrorBody,
  HealthResponse,
  HistoryQuery,
  HistoryResponse,
  IDEMPOTENCY_KEY,
  PresenceResponse,
  PublishRequest,
  PublishResponse,
  RevokeRequestBody,
  RevokeResponse,
  StatsQuery,
  StatsResponse,
  TokenRequestResponse,
  TokenResponse,
} from './index.ts'

type JsonSchema = Record<string, unknown>

/** One operation: its success answers by status, its query, body and headers. Error answers are added from `errors`. */
interface Operation {
  readonly summary: string
  readonly description?: string
  /** `required`: an app JWT in `Authorization: Bearer …`; `optional`: more is answered with one. */
  readonly auth: 'required' | 'optional' | 'none'
  readonly query?: z.ZodObject
  /** Query parameters no schema of the contract describes (documented by hand). */
  readonly extraQuery?: Readonly<Record<string, { description: string; required: boolean }>>
  readonly body?: z.ZodType
  readonly requestHeaders?: Readonly<Record<string, { description: string; schema: JsonSchema }>>
  readonly responses: Readonly<Record<number, { description: string; schema: z.ZodType; headers?: readonly string[] }>>
  /** The error codes this operation answers (besides the ones every route can: see `COMMON_ERRORS`). */
  readonly errors: readonly ErrorCode[]
  /** What the code checks beyond what the schema can say. */
  readonly stricter?: readonly string[]
}

/** Every route can answer these: a bad request line or header, the body limit, a bad method, a rate limit, an internal error, the deadline. */
const COMMON_ERRORS: readonly ErrorCode[] = [
  'invalid_request',
  'payload_too_large',
  'method_not_allowed',
  'rate_limited',
  'internal_error',
  'deadline_exceeded',
]

const RESPONSE_HEADERS: Record<string, { description: string; schema: JsonSchema }> = {
  'X-Request-Id': {
    description: 'The request id (the caller’s, when it sent a valid one); every error body repeats it as `requestId`.',
    schema: { type: 'string' },
  },
  'Retry-After': { description: 'Seconds to wait before retrying (429, 503 and 409).', schema: { type: 'string', pattern: '^\\d+$' } },
  RateLimit: { description: 'The caller’s remaining quota (draft-ietf-httpapi-ratelimit-headers), e.g. `"publish";r=119;t=60`.', schema: { type: 'string' } },
  'RateLimit-Policy': { description: 'The quota policy, e.g. `"publish";q=120;w=60`.', schema: { type: 'string' } },
  'Idempotent-Replayed': {
    description: '`true` when the answer is the stored first answer to this idempotency key.',
    schema: { type: 'string', enum: ['true'] },
  },
  'WWW-Authenticate': {
    description: 'On 401 (and 403 `signed_out`): `Bearer`, with `error="invalid_token"` and whether it expired.',
    schema: { type: 'string' },
  },
}

const IDEMPOTENCY_HEADER = {
  'Idempotency-Key': {
    description:
      'Makes the request idempotent: a repeat with the same body answers the first result (`Idempotent-Replayed: true`) and publishes nothing new; with another body, 422 `idempotency_mismatch`. For a single message it is the message id; in a batch, each message’s `id` wins.',
    schema: { type: 'string', pattern: IDEMPOTENCY_KEY.source },
  },
}

/** The operations, by path and method. Every path of `NETLIFY_FUNCTIONS` must be here, with each method it allows. */
const OPERATIONS: Readonly<Record<string, Readonly<Record<string, Operation>>>> = {
  '/api/ably/token': {
    post: {
      summary: 'An Ably JWT for the app user, signed locally with the Ably key',
      description:
        'Also a TokenDetails (`token`, `issued`, `expires`, `capability`, `clientId`), so ably-js `authUrl` takes it as is. The capability allows only the user’s own channels.',
      auth: 'required',
      responses: {
        200: {
          description: 'The Ably token; or, when the capability would make the JWT too large for a header, a TokenRequest signed with the key.',
          schema: z.union([TokenResponse, TokenRequestResponse]),
        },
      },
      errors: ['signed_out', 'invalid_token', 'forbidden'],
    },
    get: {
      summary: 'The same as POST (for ably-js `authUrl` with `authMethod: GET`)',
      auth: 'required',
      responses: { 200: { description: 'The Ably token, or a TokenRequest (as for POST).', schema: z.union([TokenResponse, TokenRequestResponse]) } },
      errors: ['signed_out', 'invalid_token', 'forbidden'],
    },
  },
  '/api/ably/stats': {
    get: {
      summary: 'Health of the realtime service, and of a channel with a token',
      description: 'Anonymous answers are cacheable by Netlify’s CDN for 5 s. 503 with the same body when unhealthy.',
      auth: 'optional',
      query: StatsQuery,
      responses: {
        200: { description: 'Healthy or degraded.', schema: StatsResponse },
        503: { description: 'Unhealthy (the same body).', schema: StatsResponse },
      },
      errors: ['invalid_token', 'forbidden', 'invalid_channel', 'invalid_request'],
      stricter: ['`channelName` must be one of the caller’s own channels (otherwise 403 `forbidden`), and needs a token.'],
    },
  },
  '/api/ably/presence': {
    get: {
      summary: 'Whether each user is online (admin roles only)',
      auth: 'required',
      extraQuery: { userIds: { description: 'Comma-separated user ids, 1 to 100.', required: true } },
      responses: { 200: { description: 'Each user, in the order asked.', schema: PresenceResponse } },
      errors: ['invalid_token', 'forbidden', 'invalid_request', 'ably_unavailable'],
      stricter: ['Each user id is 1–64 letters, digits, `_` or `-`.'],
    },
  },
  '/api/ably/publish': {
    post: {
      summary: 'Validate, store, then publish to Ably (one message or a batch)',
      description:
        'The message is stored before it is published. 200 when Ably took it; 202 `queued` when Ably did not answer in time: it is stored and the outbox delivers it (nothing accepted is lost).',
      auth: 'required',
      body: PublishRequest,
      requestHeaders: IDEMPOTENCY_HEADER,
      responses: {
        200: {
          description: 'Published (for a batch: none queued).',
          schema: z.union([PublishResponse, BatchPublishResponse]),
          headers: ['RateLimit', 'RateLimit-Policy', 'Idempotent-Replayed'],
        },
        202: {
          description: 'Accepted and stored; delivery is queued.',
          schema: z.union([PublishResponse, BatchPublishResponse]),
          headers: ['RateLimit', 'RateLimit-Policy', 'Idempotent-Replayed'],
        },
      },
      errors: [
        'invalid_token',
        'forbidden',
        'invalid_request',
        'invalid_json',
        'invalid_channel',
        'invalid_event',
        'invalid_payload',
        'idempotency_conflict',
        'idempotency_mismatch',
        'payload_too_large',
        'unsupported_media_type',
        'request_timeout',
        'publish_rejected',
        'store_unavailable',
      ],
      stricter: [
        '`channelName` must name a channel the caller may publish to (its own, unless a role allows more): otherwise 403 `forbidden`.',
        '`eventName` must be an event of that channel kind (400 `invalid_event`), and `data` must match that event’s schema (400 `invalid_payload`, with the fields in `details`).',
        'Ids inside `data` (e.g. `userId`, `contactId`) must match the channel’s.',
        'A batch holds at most `PUBLISH_MAX_BATCH` messages (default 50), all checked before any is stored; the body is at most 64 KiB.',
      ],
    },
  },
  '/api/ably/revoke': {
    post: {
      summary: 'Sign out: revoke this session’s Ably tokens, every session of the user, or (admins) another user’s',
      description:
        'No body revokes the caller’s session; `{ "scope": "user" }` every session of the caller; `{ "userId" }` (admin roles) another user’s. Connected clients holding a revoked token are disconnected, and their renewals are refused.',
      auth: 'required',
      body: RevokeRequestBody,
      responses: { 200: { description: 'Revoked, at Ably and in the deny-list.', schema: RevokeResponse } },
      errors: ['invalid_token', 'signed_out', 'forbidden', 'invalid_json', 'unsupported_media_type', 'not_found', 'revocation_unavailable'],
      stricter: ['`userId` for another user needs an admin role (403 `forbidden`).', 'An empty body is allowed (this session); a body must be JSON.'],
    },
  },
  '/api/ably/history': {
    get: {
      summary: 'A page of a channel’s stored messages, newest first',
      auth: 'required',
      query: HistoryQuery,
      responses: { 200: { description: 'One page.', schema: HistoryResponse, headers: ['RateLimit', 'RateLimit-Policy'] } },
      errors: ['invalid_token', 'forbidden', 'invalid_request', 'invalid_channel', 'store_unavailable'],
      stricter: [
        '`channelName` must be one of the caller’s own channels (403 `forbidden`).',
        '`before` is a `next` value of an earlier page or an ISO 8601 time.',
      ],
    },
  },
  '/api/ably/health': {
    get: {
      summary: 'Health of the publish path: the store, the outbox and Ably',
      description: 'Anonymous callers and users without an admin role get `status` and `timestamp` only; admin roles get every check.',
      auth: 'optional',
      responses: {
        200: { description: 'Healthy or degraded.', schema: HealthResponse },
        503: { description: 'Unhealthy (the same body).', schema: HealthResponse },
      },
      errors: ['invalid_token'],
    },
  },
}

/** The schema of one zod type, as JSON Schema 2020-12 (no `$schema`: the document's dialect applies). */
function schemaOf(type: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _, ...schema } = z.toJSONSchema(type, { io, unrepresentable: 'any' }) as JsonSchema
  return schema
}

/** What any route that reads an app JWT can answer: the identity provider's keys (JWKS) or the revocation deny-list out of reach. */
const AUTH_ERRORS: readonly ErrorCode[] = ['auth_keys_unavailable', 'revocation_unavailable']

/** Codes by status, from the one table (`errorStatus`), limited to `codes`. */
function errorResponses(codes: readonly ErrorCode[]): Record<string, ResponseObject> {
  const byStatus = new Map<number, ErrorCode[]>()
  for (const code of new Set([...codes, ...COMMON_ERRORS])) byStatus.set(errorStatus[code], [...(byStatus.get(errorStatus[code]) ?? []), code])
  const body = schemaOf(ErrorBody, 'output')
  return Object.fromEntries(
    [...byStatus].map(([status, statusCodes]) => [
      String(status),
      {
        description: `Error: ${statusCodes.map((code) => `\`${code}\``).join(', ')}.`,
        headers: headerRefs(
          status === 401 || statusCodes.includes('signed_out')
            ? ['WWW-Authenticate']
            : status === 429 || status === 503 || status === 409
              ? ['Retry-After']
              : [],
        ),
        content: { 'application/json': { schema: { ...body, properties: { ...(body.properties as object), code: { type: 'string', enum: statusCodes } } } } },
      },
    ]),
  )
}

interface ResponseObject {
  description: string
  headers: Record<string, unknown>
  content: { 'application/json': { schema: JsonSchema } }
}

/** The answers and the error answers; where a status is both (a 503 health body, a 503 error), either body. */
function withErrors(answers: Record<string, ResponseObject>, errors: Record<string, ResponseObject>): Record<string, ResponseObject> {
  const merged = { ...errors, ...answers }
  for (const [status, error] of Object.entries(errors)) {
    const answer = answers[status]
    if (!answer) continue
    merged[status] = {
      description: `${answer.description} Or ${error.description.charAt(0).toLowerCase()}${error.description.slice(1)}`,
      headers: { ...error.headers, ...answer.headers },
      content: { 'application/json': { schema: { anyOf: [answer.content['application/json'].schema, error.content['application/json'].schema] } } },
    }
  }
  return Object.fromEntries(Object.entries(merged).sort(([a], [b]) => Number(a) - Number(b)))
}

function headerRefs(names: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(['X-Request-Id', ...names].map((name) => [name, { $ref: `#/components/headers/${name}` }]))
}

function parameters(operation: Operation): unknown[] {
  const query = operation.query ? schemaOf(operation.query, 'input') : undefined
  const required = new Set((query?.required as string[] | undefined) ?? [])
  const fromSchema = Object.entries((query?.properties as Record<string, JsonSchema> | undefined) ?? {}).map(([name, schema]) => ({
    name,
    in: 'query',
    required: required.has(name),
    schema,
  }))
  const extra = Object.entries(operation.extraQuery ?? {}).map(([name, { description, required: isRequired }]) => ({
    name,
    in: 'query',
    required: isRequired,
    description,
    schema: { type: 'string' },
  }))
  const headers = Object.entries(operation.requestHeaders ?? {}).map(([name, { description, schema }]) => ({
    name,
    in: 'header',
    required: false,
    description,
    schema,
  }))
  return [...fromSchema, ...extra, ...headers]
}

function toOperation(fn: NetlifyFunction, operation: Operation): Record<string, unknown> {
  const stricter = operation.stricter?.length ? `\n\n**Checked beyond this schema:**\n${operation.stricter.map((line) => `- ${line}`).join('\n')}` : ''
  const limits = fn.rateLimit
    ? `\n\nNetlify’s platform rate limit: ${fn.rateLimit.windowLimit} requests per ${fn.rateLimit.windowSize} s per ${fn.rateLimit.aggregateBy.join(' and ')}.`
    : ''
  return {
    summary: operation.summary,
    description: `${operation.description ?? operation.summary}${stricter}${limits}\n\nRuns as the ${fn.runtime === 'edge' ? 'Netlify Edge Function' : 'Netlify Function (Node)'} \`${fn.name}\`.`,
    ...(operation.auth === 'required' && { security: [{ appJwt: [] }] }),
    ...(operation.auth === 'optional' && { security: [{}, { appJwt: [] }] }),
    parameters: parameters(operation),
    ...(operation.body && { requestBody: { required: true, content: { 'application/json': { schema: schemaOf(operation.body, 'input') } } } }),
    responses: withErrors(
      Object.fromEntries(
        Object.entries(operation.responses).map(([status, { description, schema, headers = [] }]) => [
          status,
          { description, headers: headerRefs(headers), content: { 'application/json': { schema: schemaOf(schema, 'output') } } },
        ]),
      ),
      errorResponses(operation.auth === 'none' ? operation.errors : [...operation.errors, ...AUTH_ERRORS]),
    ),
  }
}

export interface OpenApiOptions {
  /** The package version, for `info.version`. */
  version: string
  /** Server URLs, e.g. the local stack's; none by default (same origin). */
  servers?: readonly string[]
}

/** The document: every route with a path in `NETLIFY_FUNCTIONS`, each method it allows. */
export function openApiDocument({ version, servers = [] }: OpenApiOptions): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {}
  for (const fn of Object.values(NETLIFY_FUNCTIONS) as NetlifyFunction[]) {
    if (fn.path === undefined) continue
    const operations = OPERATIONS[fn.path]
    const item: Record<string, unknown> = {}
    for (const method of fn.allow ?? []) {
      const operation = operations?.[method.toLowerCase()]
      if (!operation) throw new Error(`openApiDocument: ${method} ${fn.path} (${fn.name}) has no operation in OPERATIONS (src/contract/openapi.ts)`)
      item[method.toLowerCase()] = { operationId: `${method.toLowerCase()}-${fn.name}`, ...toOperation(fn, operation) }
    }
    paths[fn.path] = item
  }
  for (const path of Object.keys(OPERATIONS))
    if (!paths[path]) throw new Error(`openApiDocument: ${path} is in OPERATIONS but in no function of NETLIFY_FUNCTIONS`)
  return {
    openapi: '3.1.0',
    info: {
      title: 'ably-netlify-integration',
      version,
      description:
        'Least-privilege Ably credentials from the edge, a validated and durable publish gateway, history and health. Every error answers `{ error, code, requestId, details? }`; switch on `code`. Where the code checks more than a schema can say (ownership of channels, each event’s payload schema, ids inside payloads matching the channel), the operation says so under “Checked beyond this schema”.',
    },
    servers: servers.map((url) => ({ url })),
    paths,
    components: {
      securitySchemes: {
        appJwt: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description:
            'The app’s session JWT: HS256 with JWT_SECRET, or the identity provider’s (JWKS). The token route also reads it from the cookie `JWT_COOKIE` names, when set and no Authorization header is sent.',
        },
      },
      headers: Object.fromEntries(Object.entries(RESPONSE_HEADERS).map(([name, header]) => [name, header])),
    },
  }
}
