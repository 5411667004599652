import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import type { Leak } from '../src/index.ts'

/** The package root: frames in reports are relative to it. */
export const ROOT = new URL('..', import.meta.url).pathname

/** Exactly one leak, of `kind`. */
export function only(leaks: Leak[], kind: Leak['kind']): Leak {
  assert.equal(leaks.length, 1, `expected one ${kind} leak, got ${JSON.stringify(leaks, null, 2)}`)
  assert.equal(leaks[0]!.kind, kind)
  return leaks[0]!
}

/** The leak was created at the line of `testFile` (a file: URL) that carries the comment `marker`. */
export function assertCreatedAt(leak: Leak, testFile: string, marker: string): void {
  assertFramesAt(leak.stack, testFile, marker)
}

/** One of `frames` (a leak's stack, or a related one) is the line of `testFile` that carries `marker`. */
export function assertFramesAt(frames: string[], testFile: string, marker: string): void {
  const file = new URL(testFile).pathname
  const line =
    fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .findIndex((l) => l.includes(marker)) + 1
  assert.ok(line > 0, `marker ${marker} is not in ${file}`)
  const where = `${path.relative(ROOT, file)}:${line}:`
  assert.ok(
    frames.some((f) => f.includes(where)),
    `expected a frame at ${where}, got ${frames.join(' | ')}`,
  )
}
