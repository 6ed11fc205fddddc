/**
 * End to end against the local hub: messages published through the gateway while the hub is stopped and restarted
 * several times all reach a real `ably` subscriber, none lost, and none duplicated once deduplicated by id; and a
 * burst of 10 identical concurrent requests stores one message that is delivered once.
 */
import { describe, expect, it } from 'vitest'
import { faultRun } from './fault-run.ts'

describe.each([
  { protocol: 'msgpack', useBinaryProtocol: true },
  { protocol: 'json', useBinaryProtocol: false },
])('gateway → hub with restarts ($protocol subscriber)', ({ useBinaryProtocol }) => {
  it('delivers every accepted message: 0 lost, 0 duplicates after dedup by id', async () => {
    const report = await faultRun({ messages: 60, outages: 4, useBinaryProtocol })
    expect(report.refused).toBe(0)
    expect(report.accepted).toBe(60)
    // The outages really happened while publishing: some messages had to be queued and swept.
    expect(report.queued202).toBeGreaterThan(0)
    expect(report.lost).toBe(0)
    expect(report.delivered).toBe(60)
    expect(report.duplicatesAfterDedup).toBe(0)
    // Ten identical requests at once: one message stored, delivered once, every answer 200 or 409.
    expect(report.burst.stored).toBe(1)
    expect(report.burst.deliveries).toBe(1)
    expect(Object.keys(report.burst.statuses).every((status) => status === '200' || status === '409')).toBe(true)
  }, 60_000)
})
