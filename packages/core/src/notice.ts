/**
 * Where netsan cannot see something, it says so once per process instead of passing silently
 * (README, "Known limitations"). Shared by every copy of netsan in the process.
 */
const KEY = Symbol.for('netsan.notices.v1')

export function noticeOnce(code: string, message: string): void {
  const g = globalThis as unknown as Record<symbol, Set<string> | undefined>
  const seen = (g[KEY] ??= new Set())
  if (seen.has(code)) return
  seen.add(code)
  process.emitWarning(`netsan: ${message}`, { code })
}
