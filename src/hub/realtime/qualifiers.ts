/**
 * Channel name qualifiers on attach: `[?rewind=1]name` (channel params) and `[filter=<base64 JMESPath>]name`
 * (a derived channel delivering only the messages the filter selects, as ably-js's `channels.getDerived`
 * asks for). See https://ably.com/docs/channels#derived and https://ably.com/docs/pub-sub/advanced#subscription-filters.
 */
import { compile, TreeInterpreter, type JSONValue } from '@jmespath-community/jmespath'
import { fromBase64 } from '../codec.ts'
import { HubError } from '../errors.ts'
import { assertChannelName, type StoredMessage } from '../messages.ts'

/** What an attach names: the channel it reads, and the filter and params its qualifier adds. */
export interface QualifiedName {
  base: string
  filter?: (message: StoredMessage) => boolean
  params: Record<string, string>
}

const QUALIFIED = /^\[([^\]]*)\](.+)$/s
const utf8 = new TextDecoder('utf-8', { fatal: true })

const invalid = (reason: string, cause?: unknown) => new HubError(40010, `Invalid channel name: ${reason}`, 400, { cause })

/** JMESPath truthiness: false, null, "", [] and {} select nothing. */
function truthy(value: JSONValue): boolean {
  if (value === false || value === null || value === '') return false
  if (Array.isArray(value)) return value.length > 0
  if (typeof value === 'object') return Object.keys(value).length > 0
  return true
}

function compileFilter(encoded: string): (message: StoredMessage) => boolean {
  let expression: ReturnType<typeof compile>
  try {
    expression = compile(utf8.decode(fromBase64(encoded)))
  } catch (error) {
    throw invalid('the filter is not a valid JMESPath expression', error)
  }
  // Ably's filters see the message name and its extras.headers.
  return (message) => {
    const headers = message.extras?.headers
    const view = { name: message.name ?? null, headers: (typeof headers === 'object' && headers !== null ? headers : {}) as JSONValue }
    try {
      return truthy(TreeInterpreter.search(expression, view))
    } catch {
      return false
    }
  }
}

/** Parses an attach's channel name; a plain name is its own base. Unknown qualifiers are a 40010. */
export function parseQualifiedName(name: string): QualifiedName {
  const match = QUALIFIED.exec(name)
  if (!match) return { base: assertChannelName(name), params: {} }
  const [, qualifier = '', base = ''] = match
  const split = qualifier.indexOf('?')
  const head = split === -1 ? qualifier : qualifier.slice(0, split)
  const params = split === -1 ? {} : Object.fromEntries(new URLSearchParams(qualifier.slice(split + 1)))
  if (head !== '' && !head.startsWith('filter=')) throw invalid(`the qualifier "[${head}]" is not supported by the hub`)
  return {
    base: assertChannelName(base),
    filter: head === '' ? undefined : compileFilter(head.slice('filter='.length)),
    params,
  }
}
