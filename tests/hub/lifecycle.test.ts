import { connect } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { createHub, type Hub } from '../../src/hub/index.ts'
import { ROOT_KEY } from './helpers.ts'

describe('hub lifecycle', () => {
  const hubs: Hub[] = []
  const newHub = () => {
    const hub = createHub({ keys: [ROOT_KEY] })
    hubs.push(hub)
    return hub
  }
  afterEach(async () => {
    await Promise.all(hubs.splice(0).map((hub) => hub.close()))
  })

  /** Whether anything accepts TCP connections on `port`. */
  const accepting = (port: number) =>
    new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.destroy()
        resolve(true)
      })
      socket.on('error', () => resolve(false))
    })

  it('gives concurrent listen() calls one server on a free port', async () => {
    const hub = newHub()
    const [first, second] = await Promise.all([hub.listen(), hub.listen()])
    expect(second).toEqual(first)
    expect(hub.port).toBe(first.port)
    await hub.close()
    expect(await accepting(first.port)).toBe(false)
  })

  it('gives concurrent listen() calls one server on a fixed port instead of EADDRINUSE', async () => {
    const hub = newHub()
    const { port } = await hub.listen()
    await hub.close()
    const results = await Promise.allSettled([hub.listen(port), hub.listen(), hub.listen(port)])
    expect(results.map((result) => (result.status === 'fulfilled' ? result.value.port : String(result.reason)))).toEqual([port, port, port])
  })

  it('refuses listen() for another port while starting, and any listen() once listening, with TypeError', async () => {
    const hub = newHub()
    const started = hub.listen()
    await expect(hub.listen(1)).rejects.toThrow(TypeError)
    await started
    await expect(hub.listen()).rejects.toThrow(TypeError)
  })

  it('stops a hub closed while listen() is pending, and can start it again on the same port', async () => {
    const hub = newHub()
    const started = hub.listen()
    await hub.close()
    const { port } = await started
    expect(hub.port).toBeUndefined()
    expect(await accepting(port)).toBe(false)
    expect((await hub.listen()).port).toBe(port)
  })
})
