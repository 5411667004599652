'use strict'
// The CommonJS entry of netsan. Node 20.19+ and 22.12+ require() the ESM build directly. Jest's
// sandbox cannot load ESM from a CommonJS test (without --experimental-vm-modules), so there the
// test helpers come from the netsan environment, which publishes its own on the sandbox global.
try {
  module.exports = require('../dist/netsan.js')
} catch (error) {
  const esm =
    error && (error.code === 'ERR_REQUIRE_ESM' || /Must use import to load ES Module/.test(error.message))
  if (!esm) throw error
  const API_KEY = Symbol.for('jest-environment-netsan.api.v1')
  const api = (what) => {
    const found = globalThis[API_KEY]
    if (!found) {
      throw new Error(
        `netsan: ${what} needs the netsan environment: set testEnvironment: 'netsan' in the Jest config`,
      )
    }
    return found
  }
  module.exports = {
    expectNoLeakedConnections: (options) =>
      api('expectNoLeakedConnections()').expectNoLeakedConnections(options),
    allowLeaks: (kind, reason) => api('allowLeaks()').allowLeaks(kind, reason),
    // Duck-typed: a LeakError comes from the outer realm, where `instanceof Error` of the sandbox fails.
    isLeakError: (value) => typeof value === 'object' && value !== null && value.code === 'NETSAN_ERR_LEAKS',
  }
}
