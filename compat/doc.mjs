// Writes the generated block of docs/compatibility.md from a matrix run.
//   node compat/doc.mjs [results.json]   (default: the cache's last-run.json; see compat/matrix.mjs)
// `npm run test:matrix -- --write-doc` runs the matrix and then this.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

const BEGIN = '<!-- matrix:begin -->'
const END = '<!-- matrix:end -->'

/**
 * Known causes, matched on a failing cell's name and detail, so that the table names a cause once
 * instead of repeating raw error text. Anything unmatched is printed as it came.
 */
const CAUSES = [
  {
    id: 'ws',
    test: (r) => r.row === 'WebSocket' || r.col === 'WebSocket',
    text:
      'An open `WebSocket` is not reported as a `websocket` leak where this cell fails (every undici WebSocket, ' +
      'the global one included, is seen through what its handshake publishes on the undici channels, which ' +
      'differs by version, see docs/discoveries/websocket.md). Earlier ' +
      'builds also reported the handshake as a `request` that never got a response, after a clean `close()` too.',
  },
  {
    id: 'small-fetch',
    test: (r) => /^fetch, 2 KiB/.test(r.col ?? ''),
    text:
      'A small (2 KiB) body app code never read is not reported in the combinations marked: a regression. The ' +
      "global `fetch` is judged at its `Response` (`trackers/fetch.ts`), npm undici's own `fetch` through the " +
      'fetch controller undici creates for the call (`trackers/undici-fetch.ts`, docs/discoveries/undici-fetch.md).',
  },
  {
    id: 'small-request',
    test: (r) => /^undici\.request, 2 KiB/.test(r.col ?? ''),
    text:
      '`undici.request()` through the global dispatcher: a small (2 KiB) body app code never read is not ' +
      "reported in the combinations marked: a regression. That dispatcher may be another copy's, which wraps the " +
      "handler: netsan finds the body on the handler the user's call passed to `dispatch()` (`trackers/call-sites.ts`, " +
      'docs/discoveries/undici-fetch.md).',
  },
  {
    id: 'mock',
    test: (r) => /MockAgent \+ undici\./.test(`${r.row} ${r.col}`) && /got none/.test(r.detail),
    text:
      "A `MockAgent` response through npm undici's own `fetch` or `request` is not reported: a regression. " +
      'MockAgent publishes no channels (docs/discoveries/mocks.md); netsan observes a mocked dispatch through its ' +
      'handler (`trackers/undici-mock.ts`).',
  },
  {
    id: 'h2-u6-idle',
    test: (r) => /HTTP\/2/.test(`${r.row} ${r.col}`) && /expected body, got body,idle/.test(r.detail),
    text:
      'With undici 6 over HTTP/2 the connection that still carries the unread body is also reported as an ' +
      '`idle` connection: undici 6 publishes no `undici:client:sendHeaders` for HTTP/2 requests (7 and 8 do), so ' +
      'netsan counts no active request on that socket (`trackers/undici.ts`, `PooledSocket.active`).',
  },
  {
    id: 'h2-cleanup',
    test: (r) =>
      /HTTP\/2/.test(`${r.row} ${r.col}`) && /localAddress|servername|onError|did not finish/.test(r.detail),
    text:
      "netsan's cleanup of a leaked body over an undici HTTP/2 session destroys the TLS socket that carries the " +
      "whole session (the socket fallback of the `request:create` resource's `close` in `trackers/undici.ts`): " +
      "undici 6/7's session `close` handler then throws `TypeError: Cannot read properties of null (reading " +
      "'localAddress')`, an uncaught exception in the test process, and every other stream on the session dies.",
  },
  {
    id: 'cleanup-error',
    test: (r) => !/HTTP\/2/.test(`${r.row} ${r.col}`) && /uncaught after scope\.end/.test(r.detail),
    text:
      "netsan's cleanup raised an uncaught exception in the test process: a regression. It drains a leaked body " +
      "found on the handler the user's call passed to `dispatch()` and never destroys the socket under it (undici " +
      '6 `request` on Node 26 used to throw `SocketError: closed` that way: docs/discoveries/undici-fetch.md).',
  },
  {
    id: 'h2-pool',
    test: (r) => /got (body,)?http2/.test(r.detail),
    text:
      "undici's own HTTP/2 pool session (undici opens it with `http2.connect` after ALPN picks `h2`; the default " +
      'over TLS in undici 8, `allowH2: true` in 6/7) is reported as the test\'s `http2` session ("session to ' +
      'https://…, never closed"), a correct request too. netsan tracks a session by the socket `http2.connect` ' +
      "opens (`trackers/socket.ts`); undici's session rides on a socket its connector opened and the pool claimed, " +
      'so it is not a user session; the marked combinations would be a regression of that.',
  },
]

const mark = { pass: '✅', fail: '❌', 'n/a': '—' }

function table(header, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n')
}

export function render(summary) {
  const notes = new Map() // text → number
  const noteFor = (text) => {
    if (!notes.has(text)) notes.set(text, notes.size + 1)
    return notes.get(text)
  }
  const cellText = (r) => {
    if (!r) return ' '
    if (r.status === 'pass') return r.note ? `${mark.pass} ${r.note.replace('negotiated ', '')}` : mark.pass
    const causes = r.status === 'fail' ? CAUSES.filter((c) => c.test(r)) : []
    const texts = causes.length
      ? causes.map((c) => c.text)
      : [r.status === 'n/a' ? r.detail : `unexplained: ${r.detail}`]
    return `${mark[r.status]}<sup>${texts.map(noteFor).join(',')}</sup>`
  }
  const results = summary.results
  const nodes = [...new Set(results.map((r) => r.node).filter(Boolean))]
  const out = []
  const pass = results.filter((r) => r.status === 'pass').length
  const fail = results.filter((r) => r.status === 'fail').length
  const na = results.filter((r) => r.status === 'n/a').length
  out.push(
    `Last full run: ${summary.date.slice(0, 10)}, ${summary.platform}, ${summary.seconds} s — ` +
      `**${pass} cells pass, ${fail} fail, ${na} not applicable**. ` +
      `npm undici ${Object.values(summary.versions.undici).join(', ')}; ` +
      Object.entries(summary.versions.clients ?? {})
        .map(([n, v]) => `${n} ${v}`)
        .join(', ') +
      `; nock ${summary.versions.nock}; ws ${summary.versions.ws}. ` +
      `netsan built from ${summary.git ?? 'an unknown commit'}.`,
  )

  /** One row per case of a section, one column per Node line. */
  const nodeTable = (section, what) => {
    const rows = [...new Set(results.filter((r) => r.section === section).map((r) => r.row))]
    return table(
      [what, ...nodes.map((n) => `Node ${n}`)],
      rows.map((row) => [
        row,
        ...nodes.map((n) =>
          cellText(results.find((r) => r.section === section && r.row === row && r.node === n)),
        ),
      ]),
    )
  }

  out.push(
    '\n### Test runners (fixture suite through the adapter: two leaking tests, their two fixed twins)\n',
  )
  out.push(nodeTable('runners', 'runner'))

  out.push('\n### `node:` modules and clients built on them (through `track()`)\n')
  out.push(nodeTable('clients', 'client'))

  out.push("\n### undici: Node's bundled copy and npm undici 6, 7, 8 (through `track()`)\n")
  for (const n of nodes) {
    const mine = results.filter((r) => r.section === 'undici' && r.node === n)
    const copies = [...new Set(mine.map((r) => r.row))]
    const rows = [...new Set(mine.filter((r) => r.col !== '*').map((r) => r.col))]
    out.push(`\n**Node ${n}**\n`)
    out.push(
      table(
        ['cell', ...copies.map((c) => c.replace(/^Node [^·]+· /, ''))],
        rows.map((cell) => [
          cell,
          ...copies.map((copy) =>
            cellText(mine.find((r) => r.row === copy && (r.col === cell || r.col === '*'))),
          ),
        ]),
      ),
    )
  }
  out.push('\n**Notes**\n')
  for (const [text, n] of notes) out.push(`${n}. ${text}`)
  return out.join('\n')
}

export function writeDoc(summary, file) {
  const doc = fs.readFileSync(file, 'utf8')
  const a = doc.indexOf(BEGIN)
  const b = doc.indexOf(END)
  if (a === -1 || b === -1) throw new Error(`${file} lacks the ${BEGIN} … ${END} markers`)
  fs.writeFileSync(file, `${doc.slice(0, a + BEGIN.length)}\n${render(summary)}\n${doc.slice(b)}`)
}

if (process.argv[1] === import.meta.filename) {
  const from =
    process.argv[2] ??
    path.join(
      process.env.NETSAN_MATRIX_CACHE ?? path.join(os.homedir(), '.cache', 'netsan-matrix'),
      'last-run.json',
    )
  writeDoc(
    JSON.parse(fs.readFileSync(from, 'utf8')),
    path.join(import.meta.dirname, '../docs/compatibility.md'),
  )
  console.log(`docs/compatibility.md regenerated from ${from}`)
}
