// Which global-dispatcher symbol is populated when, and who shares it.
// Usage: node docs/discoveries/probes/global-dispatcher.mjs [/tmp/u7]
// Each case runs in a fresh child process (the dispatcher is process-global).
import { execFileSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { label, loadUndici } from './_util.mjs'

const S1 = Symbol.for('undici.globalDispatcher.1')
const S2 = Symbol.for('undici.globalDispatcher.2')
const name = (d) => (d ? d.constructor.name : '-')
const state = () => `.1=${name(globalThis[S1])} .2=${name(globalThis[S2])}`
const mode = process.env.GD_CASE

if (!mode) {
  const u = process.argv[2] || process.env.UNDICI || ''
  console.log(`# global-dispatcher — ${label(u ? loadUndici() : null)}`)
  const cases = ['builtin-fetch', 'esm-import-http']
  if (u) cases.push('npm-first', 'builtin-first')
  for (const c of cases) {
    const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), u], {
      env: { ...process.env, GD_CASE: c },
      encoding: 'utf8',
    })
    console.log(`\n## ${c}\n${out.trimEnd()}`)
  }
  process.exit(0)
}

const http = createRequire(import.meta.url)('node:http')
const server = http.createServer((_q, r) => r.end('ok'))
await new Promise((r) => server.listen(0, '127.0.0.1', r))
const url = `http://127.0.0.1:${server.address().port}/`
const log = (s) => console.log(`  ${s}`)
log(`at start: ${state()}`)

if (mode === 'builtin-fetch') {
  await (await fetch(url)).text()
  log(`after built-in fetch(): ${state()}; .1 === .2: ${globalThis[S1] === globalThis[S2]}`)
} else if (mode === 'esm-import-http') {
  await import('node:http')
  log(`after \`await import('node:http')\` (ESM namespace of node:http): ${state()}`)
} else {
  let u
  if (mode === 'builtin-first') {
    await (await fetch(url)).text()
    log(`after built-in fetch(): ${state()}`)
    const before1 = globalThis[S1]
    const before2 = globalThis[S2]
    u = loadUndici()
    const g = u.getGlobalDispatcher()
    log(
      `require('undici') ${u.__version}: ${state()}; .1 unchanged: ${globalThis[S1] === before1}; .2 unchanged: ${globalThis[S2] === before2}`,
    )
    log(
      `npm getGlobalDispatcher() returns: ${g === before2 ? 'bundled .2' : g === before1 ? 'bundled .1' : name(g)}; instanceof npm Agent: ${g instanceof u.Agent}`,
    )
  } else {
    u = loadUndici()
  }
  let count = 0
  class Counting extends u.Agent {
    dispatch(opts, handler) {
      count++
      return super.dispatch(opts, handler)
    }
  }
  if (mode === 'npm-first') log(`after require('undici') ${u.__version}: ${state()}`)
  const mine = new Counting()
  u.setGlobalDispatcher(mine)
  log(
    `after setGlobalDispatcher(new Agent subclass): ${state()}; .1 is it: ${globalThis[S1] === mine}; .2 is it: ${globalThis[S2] === mine}`,
  )
  await (await fetch(url)).text()
  log(`built-in fetch() went through it: ${count > 0}; now ${state()}`)
  count = 0
  await (await u.fetch(url)).text()
  log(`npm undici fetch() went through it: ${count > 0}`)
  count = 0
  await (await u.request(url)).body.text()
  log(`npm undici request() went through it: ${count > 0}; now ${state()}`)
  await mine.close()
}
server.close()
process.exit(0)
