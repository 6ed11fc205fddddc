/**
 * What the run scripts (fuzz, fault run) share at a terminal: `--help`, a bad argument or a target off loopback is
 * one line and exit code 2; a run that cannot go on (an unreachable URL, a stack without its dev routes) is one line
 * and exit code 1. Never a stack trace.
 */
const LOOPBACK = ['localhost', '127.0.0.1', '[::1]']

export function scriptCli(name: string, usage: string, help: string) {
  let target: URL | undefined
  const say = (message: string, code: number): never => {
    console.error(`${name}: ${message}`)
    process.exit(code)
  }
  const usageError = (message: string): never => say(`${message.replace(/\.$/, '')}. ${usage}`, 2)
  // Whatever stops the run after the arguments were read: one line, exit 1.
  process.on('uncaughtException', (error) => {
    const code = (error.cause as NodeJS.ErrnoException | undefined)?.code
    if (error.message === 'fetch failed' && target) say(`cannot reach ${target.origin}${code ? ` (${code})` : ''}: is npm start running there?`, 1)
    say(error.message, 1)
  })
  return {
    /** Reads the arguments with node:util's parseArgs (strict, with a `help` option); answers `--help`. */
    parse<T extends { values: { help?: boolean | undefined } }>(read: () => T): T['values'] {
      let parsed: T | undefined
      try {
        parsed = read()
      } catch (error) {
        usageError(String((error as Error).message).split('\n')[0] ?? '')
      }
      if (parsed?.values.help) {
        console.log(`${usage}\n\n${help}`)
        process.exit(0)
      }
      return (parsed as T).values
    },
    /** The stack to run against: loopback only. */
    target(url: string): URL {
      if (!URL.canParse(url)) usageError(`--url must be a URL such as http://localhost:8888, got ${JSON.stringify(url)}`)
      target = new URL(url)
      if (!LOOPBACK.includes(target.hostname)) usageError(`--url must be on loopback (localhost, 127.0.0.1 or [::1]), got ${target.hostname}`)
      return target
    },
    /** A number argument: a whole number from `min`. */
    count(option: string, value: string, min = 1): number {
      if (!/^\d+$/.test(value) || Number(value) < min) usageError(`--${option} must be a whole number from ${min}, got ${JSON.stringify(value)}`)
      return Number(value)
    },
    /** The run cannot go on: one line, exit 1. */
    fail: (message: string): never => say(message, 1),
  }
}
