/**
 * `test.fails`: Vitest inverts a test's outcome after its `aroundEach` hooks have run, so netsan's
 * LeakError would be taken for the failure the test expects: the test would pass and its leak be
 * printed nowhere. A leak is not that failure. When netsan fails such a test, it turns the inversion off
 * for that attempt (Vitest reads `task.fails` once per attempt in 5, once after the last in 4.1) and
 * turns it back on before the test's next attempt and at the end of the file.
 */

export interface FailsTask {
  fails?: boolean
  result?: { state?: string }
}

const turnedOff = new Set<FailsTask>()

/** The line netsan's report adds for a test that expects to fail; undefined for other tests. */
export function expectedFailureNote(task: FailsTask): string | undefined {
  if (!task.fails) return undefined
  return task.result?.state === 'fail'
    ? 'test.fails: the test failed as expected, but a leak is not the failure it expects'
    : 'test.fails: the test passed, and a leak is not the failure it expects either'
}

/** netsan fails this attempt of a `test.fails` test: Vitest must not invert that. */
export function failDespiteFails(task: FailsTask): void {
  if (!task.fails) return
  task.fails = false
  turnedOff.add(task)
}

/** Before a test's next attempt (one task), or at the end of the file (all of them). */
export function restoreFails(task?: FailsTask): void {
  for (const t of task ? [task] : [...turnedOff]) {
    if (!turnedOff.delete(t)) continue
    t.fails = true
  }
}
