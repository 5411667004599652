#!/usr/bin/env node
// The `netsan` binary: `netsan report …`, `netsan baseline …` (docs/ci.md).
import { run } from './run.ts'

process.exitCode = run(process.argv.slice(2), {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  env: process.env,
  cwd: process.cwd(),
})
