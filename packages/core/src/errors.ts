import type { Leak } from './types.ts'

/** Stable error codes: match on these, not on messages. */
export const ErrorCodes = {
  INVALID_OPTION: 'NETSAN_ERR_INVALID_OPTION',
  UNKNOWN_OPTION: 'NETSAN_ERR_UNKNOWN_OPTION',
  LEAKS: 'NETSAN_ERR_LEAKS',
  NO_SCOPE: 'NETSAN_ERR_NO_SCOPE',
  SCOPE_ENDED: 'NETSAN_ERR_SCOPE_ENDED',
  MISSING_REASON: 'NETSAN_ERR_MISSING_REASON',
  /** The runner adapter could not register its per-test checks (Vitest's vm pools without the setup file). */
  NO_HOOKS: 'NETSAN_ERR_NO_HOOKS',
  /** The test runner installed is older than the adapter's peerDependency range. */
  UNSUPPORTED_RUNNER: 'NETSAN_ERR_UNSUPPORTED_RUNNER',
} as const

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes]

export class NetsanError extends Error {
  readonly code: ErrorCode
  constructor(code: ErrorCode, message: string) {
    super(message)
    this.name = new.target.name
    this.code = code
  }
}

/** Thrown (or attached to a failing test) when a scope ends with open network resources. */
export class LeakError extends NetsanError {
  readonly leaks: Leak[]
  constructor(message: string, leaks: Leak[]) {
    super(ErrorCodes.LEAKS, message)
    this.leaks = leaks
    // The report already points at user code; netsan's own frames would only add noise.
    this.stack = `${this.name}: ${message}`
  }
}

/**
 * What cleanup ends a leaked request with: the error a caller's own abort gives (a `DOMException`
 * named 'AbortError', as `AbortSignal.abort()` makes), so that retry logic treats it as the caller's
 * abort and does not send the request again. `node:http` gets Node's own shape for an aborted
 * request (name 'AbortError', code 'ABORT_ERR', the DOMException as its cause).
 */
export function abortError(kind: 'dom' | 'node' = 'dom'): Error {
  const reason = new DOMException(
    'This operation was aborted: netsan ended a request that the test left in flight',
    'AbortError',
  )
  if (kind === 'dom') return reason
  const error = new Error(reason.message, { cause: reason })
  error.name = 'AbortError'
  Object.assign(error, { code: 'ABORT_ERR' })
  return error
}

/** `instanceof` fails across two copies of netsan and across realms (Jest's sandbox); the code survives. */
export function isLeakError(value: unknown): value is LeakError {
  return (
    typeof value === 'object' && value !== null && (value as { code?: unknown }).code === ErrorCodes.LEAKS
  )
}
