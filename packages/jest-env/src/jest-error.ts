import path from 'node:path'
import type { Leak } from 'netsan'

/**
 * Shapes netsan's report for Jest's failure printer, which splits a failure at the first line that
 * looks like a stack frame (`\n\s*at\s.*:\d*:\d*`, jest-message-util's separateMessageFromStack;
 * without one, after the first line) and re-renders the rest as a stack trace:
 * - the report's own frames print as `at fn (file:line)`, with one colon, so the report stays the message;
 * - one real frame after the report, at the first leak's creating line, becomes the stack: Jest prints
 *   its own code frame there.
 * Jest prepends `message` when the stack does not contain it, so both get the same text; `leaks` is
 * unchanged. The error may come from Jest's sandbox (a copy of netsan the test imported).
 * @note docs/discoveries/runner-output.md
 */
export function forJest<E extends Error & { leaks?: Leak[] }>(error: E, root: string): E {
  const frame = error.leaks?.find((l) => l.frame)?.frame
  const at = frame
    ? `${frame.fn ? `${frame.fn} (` : ''}${path.resolve(root, frame.file)}:${frame.line}:${frame.column}${frame.fn ? ')' : ''}`
    : `netsan (${__filename}:1:1)`
  Object.defineProperty(error, 'stack', {
    value: `${error.name}: ${error.message}\n    at ${at}`,
    configurable: true,
    writable: true,
    enumerable: false,
  })
  return error
}
