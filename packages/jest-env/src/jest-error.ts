/**
 * Jest splits a failure into message and stack at the first line that looks like a stack frame
 * (`\n\s*at\s.*:\d*:\d*`), then re-renders that "stack" with a code frame of its own. netsan's report
 * lists user frames as `at file:line:col`, so Jest would cut the report in two. A zero-width space
 * before each `at` keeps the report whole and looks the same; `message` stays untouched.
 */
export function forJest<E extends Error>(error: E): E {
  const text = `${error.name}: ${error.message}`.replace(/^(\s*)at /gm, '$1\u200bat ')
  Object.defineProperty(error, 'stack', { value: text, configurable: true, writable: true })
  return error
}
