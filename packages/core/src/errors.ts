import type { Leak } from './types.ts'

/** Stable error codes: match on these, not on messages. */
export const ErrorCodes = {
  INVALID_OPTION: 'NETSAN_ERR_INVALID_OPTION',
  UNKNOWN_OPTION: 'NETSAN_ERR_UNKNOWN_OPTION',
  LEAKS: 'NETSAN_ERR_LEAKS',
  NO_SCOPE: 'NETSAN_ERR_NO_SCOPE',
  SCOPE_ENDED: 'NETSAN_ERR_SCOPE_ENDED',
  MISSING_REASON: 'NETSAN_ERR_MISSING_REASON',
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

/** `instanceof` fails across two copies of netsan and across realms (Jest's sandbox); the code survives. */
export function isLeakError(value: unknown): value is LeakError {
  return (
    typeof value === 'object' && value !== null && (value as { code?: unknown }).code === ErrorCodes.LEAKS
  )
}
