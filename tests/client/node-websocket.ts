/**
 * ably-js's modular build is the browser build: it takes the global WebSocket when it loads, and Node 20 has none.
 * The client tests lend it `ws`'s, so this module must be imported before anything that imports `ably/modular`.
 */
import { WebSocket } from 'ws'

globalThis.WebSocket ??= WebSocket as unknown as typeof globalThis.WebSocket
