import path from 'node:path'
import type { Leak } from 'netsan'

/**
 * Shapes netsan's report for Jest's failure printer, which splits a failure at the first line that
 * looks like a stack frame (`\n\s*at\s.*:\d*:\d*`; without one, after the first line) and re-renders
 * the rest as a stack trace. So:
 * - a zero-width space before each `at` of the report keeps the report in the message, looking the same;
 * - one real frame after the report, at the first leak's creating line, becomes the stack: Jest prints
 *   its own code frame there.
 * Jest prepends `message` when the stack does not contain it, so both get the same text; `leaks` is unchanged.
 */
export function forJest<E extends Error & { leaks?: Leak[] }>(error: E, root: string): E {
  const message = error.message.replace(/^(\s*)at /gm, '$1\u200bat ')
  const frame = error.leaks?.find((l) => l.frame)?.frame
  const at = frame
    ? `${frame.fn ? `${frame.fn} (` : ''}${path.resolve(root, frame.file)}:${frame.line}:${frame.column}${frame.fn ? ')' : ''}`
    : `netsan (${__filename}:1:1)`
  for (const [key, value] of [
    ['message', message],
    ['stack', `${error.name}: ${message}\n    at ${at}`],
  ] as const) {
    Object.defineProperty(error, key, { value, configurable: true, writable: true, enumerable: false })
  }
  return error
}
