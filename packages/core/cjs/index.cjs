'use strict'
// netsan for require(): the whole API. Where Node can require() an ES module (20.19+, 22.12+), this is
// the ES module itself, so require() and import share one copy of netsan. Where it cannot — Jest's
// CommonJS sandbox (without --experimental-vm-modules), Node 22.0–22.11 — it is the CommonJS build of
// the same bundle. Both find the process-wide engine under the same Symbol.for key (src/engine.ts).
try {
  module.exports = require('../dist/netsan.js')
} catch (error) {
  const esm =
    error && (error.code === 'ERR_REQUIRE_ESM' || /Must use import to load ES Module/.test(error.message))
  if (!esm) throw error
  module.exports = require('../dist/netsan.cjs')
}
