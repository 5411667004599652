/**
 * Once per run, not once per worker: a runner's workers share no memory, so the first one to create a
 * marker file for `(run, key)` wins. A message every worker would print (a bad option, a missing setup
 * line) is then printed once. Markers older than half an hour are pruned.
 */

// Not `import … from 'node:…'`: an ES module import of a builtin reads every lazy export (fs: its
// streams, fs/promises, readline), ≈ 10 ms more for each Vitest worker.
const fs = process.getBuiltinModule('node:fs')
const os = process.getBuiltinModule('node:os')
const path = process.getBuiltinModule('node:path')

const STALE_MS = 30 * 60_000

/** True for the first caller in the run (`run`: run-id.ts), false for every later one. */
export function firstInRun(run: string, key: string): boolean {
  const dir = path.join(os.tmpdir(), 'netsan-once')
  const marker = path.join(dir, `${run}-${key}`.replace(/[^\w.-]/g, '_'))
  try {
    fs.mkdirSync(dir, { recursive: true })
    prune(dir)
    fs.writeFileSync(marker, '', { flag: 'wx' })
    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') return true
    // A marker left by an earlier run whose main process had the same id is stale.
    const stat = fs.statSync(marker, { throwIfNoEntry: false })
    if (stat && Date.now() - stat.mtimeMs < STALE_MS) return false
    fs.writeFileSync(marker, '')
    return true
  }
}

function prune(dir: string): void {
  for (const name of fs.readdirSync(dir)) {
    const file = path.join(dir, name)
    const stat = fs.statSync(file, { throwIfNoEntry: false })
    if (stat && Date.now() - stat.mtimeMs > STALE_MS) fs.rmSync(file, { force: true })
  }
}

/** A short stable key for a message: the same bad option gives the same marker in every worker. */
export function keyOf(text: string): string {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193)
  return (h >>> 0).toString(36)
}
