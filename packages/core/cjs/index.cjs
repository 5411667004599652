'use strict'
// netsan for require(): the whole API. Where Node can require() an ES module (20.19+, 22.12+), this is
// the ES module itself, so require() and import share one copy of netsan. Where it cannot — Jest's
// CommonJS sandbox (without --experimental-vm-modules), Node 22.0–22.11 — it is the CommonJS build of
// the same bundle. Both find the process-wide engine under the same Symbol.for key (src/engine.ts).
// How the ES module is refused differs: ERR_REQUIRE_ESM from Node, a SyntaxError from Jest 29.0's
// sandbox (it parses the file as CommonJS). Whatever the refusal, the CommonJS build is the answer;
// only if that fails too is the first error the one worth showing.
try {
  module.exports = require('../dist/netsan.js')
} catch (error) {
  try {
    module.exports = require('../dist/netsan.cjs')
  } catch {
    throw error
  }
}
