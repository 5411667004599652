import path from 'node:path'

// Not `import … from 'node:…'`: an ES module import of a builtin reads every lazy export (fs: its
// streams, fs/promises, readline; timers: timers/promises), ≈ 10 ms more for each Vitest worker.
const fs = process.getBuiltinModule('node:fs')

const cache = new Map<string, string[] | undefined>()

/**
 * Reads one line of a source file for the report's code frame. Vitest source-maps its stacks to
 * the original files, so the line numbers in a leak's frames refer to the file on disk.
 */
export function sourceLine(file: string, line: number): string | undefined {
  if (!path.isAbsolute(file)) return undefined
  let lines = cache.get(file)
  if (!cache.has(file)) {
    try {
      lines = fs.readFileSync(file, 'utf8').split(/\r?\n/)
    } catch {
      lines = undefined
    }
    if (cache.size > 200) cache.clear()
    cache.set(file, lines)
  }
  return lines?.[line - 1]
}
