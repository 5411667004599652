import fs from 'node:fs'
import path from 'node:path'

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
