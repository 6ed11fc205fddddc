/**
 * The one response validator: an answer of `/api/ably/*` checked against the OpenAPI document generated from the
 * wire contract (src/contract/openapi.ts). `openapi-setup.ts` runs it on every answer an app gives in the suite.
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'
import { openApiDocument } from '../../src/contract/openapi.ts'

interface ResponseObject {
  headers?: Record<string, unknown>
  content?: { 'application/json'?: { schema: object } }
}

type Paths = Record<string, Record<string, { responses: Record<string, ResponseObject> }>>

const document = openApiDocument({ version: 'test' }) as { paths: Paths }
const ajv = new Ajv2020({ strict: false, allErrors: true })
addFormats.default(ajv)
const compiled = new Map<string, ValidateFunction | undefined>()

/** The validator of one documented answer; undefined when the path or method is not in the document. */
function validatorFor(path: string, method: string, status: number): ValidateFunction | 'undocumented' | undefined {
  const operation = document.paths[path]?.[method.toLowerCase()]
  if (!operation) return undefined
  const key = `${method} ${path} ${status}`
  if (!compiled.has(key)) {
    const response = operation.responses[String(status)]
    if (!response) return 'undocumented'
    const schema = response.content?.['application/json']?.schema
    compiled.set(key, schema ? ajv.compile(schema) : undefined)
  }
  return compiled.get(key)
}

/**
 * What is wrong with an answer, by the document; an empty list when it conforms or the route is not documented (a
 * path outside the API, or a method the route does not serve: those answer the generic 404 and 405).
 */
export async function responseProblems(method: string, url: URL, response: Response): Promise<string[]> {
  const validate = validatorFor(url.pathname, method, response.status)
  if (validate === undefined) return []
  const where = `${method} ${url.pathname} → ${response.status}`
  if (validate === 'undocumented') return [`${where}: the document lists no ${response.status} answer`]
  const problems: string[] = []
  if (!response.headers.get('x-request-id')) problems.push(`${where}: no X-Request-Id`)
  if (!/^application\/json\b/.test(response.headers.get('content-type') ?? ''))
    return [...problems, `${where}: content type ${response.headers.get('content-type')}`]
  const text = await response.clone().text()
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    return [...problems, `${where}: the body is not JSON: ${text.slice(0, 200)}`]
  }
  if (!validate(body)) problems.push(`${where}: ${ajv.errorsText(validate.errors)} in ${text.slice(0, 300)}`)
  return problems
}
