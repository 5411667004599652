import fs from 'node:fs'
import path from 'node:path'

/** Reads one line of the original source for the report's code frame (stack frames are source-mapped). */
export function sourceLineReader(root: string): (file: string, line: number) => string | undefined {
  const cache = new Map<string, string[] | undefined>()
  return (file, line) => {
    const abs = path.resolve(root, file)
    if (!cache.has(abs)) {
      let lines: string[] | undefined
      try {
        lines = fs.readFileSync(abs, 'utf8').split('\n')
      } catch {}
      cache.set(abs, lines)
    }
    return cache.get(abs)?.[line - 1]
  }
}
