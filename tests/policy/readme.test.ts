/** The README's channel tables are the SMS inbox policy's: checked against it, so neither can drift. */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { smsInbox } from '../../src/policy/sms-inbox.ts'

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')

/** The rows of the first table after `heading`, as cells with their backticks removed. */
function tableAfter(heading: string): string[][] {
  const start = readme.indexOf(`\n${heading}\n`)
  expect(start, heading).toBeGreaterThan(0)
  const lines = readme.slice(start).split('\n')
  const first = lines.findIndex((line) => line.startsWith('|'))
  const rows: string[][] = []
  for (const line of lines.slice(first + 2)) {
    if (!line.startsWith('|')) break
    rows.push(
      line
        .split('|')
        .slice(1, -1)
        .map((cell) => cell.trim()),
    )
  }
  return rows
}

const code = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((match) => match[1] as string)

describe('README tables', () => {
  it('the capability table is the policy’s capability for a user', () => {
    const derived = smsInbox.capability({ userId: 'USER', segment: 'USER', roles: [], memberships: [] })
    const documented = Object.fromEntries(
      tableAfter('#### The capability').map(([resource = '', operations = '']) => [code(resource)[0], code(operations).sort()]),
    )
    expect(documented).toEqual(Object.fromEntries(Object.entries(derived).map(([resource, operations]) => [resource.replace('USER', '{userId}'), operations])))
  })

  it('the channels and events table lists exactly the policy’s kinds and events, in order', () => {
    const documented = tableAfter('## Channels, events and payloads').map(([channel = '', event = '']) => `${code(channel)[0]} ${code(event)[0]}`)
    const derived = smsInbox.kinds.flatMap((kind) => smsInbox.events[kind].map((event) => `${smsInbox.forms[kind]} ${event}`))
    expect(documented).toEqual(derived)
  })

  it('the namespaces to configure are named', () => {
    expect(readme).toContain(`Namespaces to configure in Ably: ${smsInbox.namespaces.map((namespace) => `\`${namespace}\``).join(', ')}.`)
  })
})
