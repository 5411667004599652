// A long-running converter process (the `child` handle kind): send it a line, it answers upper-cased.
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'

const SCRIPT = `process.stdin.setEncoding('utf8').on('data', (s) => process.stdout.write(s.toUpperCase()))`

export interface Converter {
  convert(line: string): Promise<string>
  close(): Promise<void>
}

export function startConverter(): Converter {
  const child: ChildProcess = spawn(process.execPath, ['-e', SCRIPT])
  return {
    async convert(line) {
      child.stdin!.write(line)
      const [chunk] = await once(child.stdout!, 'data')
      return String(chunk)
    },
    async close() {
      child.stdin!.end()
      if (child.exitCode === null) await once(child, 'exit')
    },
  }
}
