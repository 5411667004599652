// A long-running converter process (the `child` handle kind): send it a line, it answers upper-cased.
const { spawn } = require('node:child_process')
const { once } = require('node:events')

const SCRIPT = `process.stdin.setEncoding('utf8').on('data', (s) => process.stdout.write(s.toUpperCase()))`

function startConverter() {
  const child = spawn(process.execPath, ['-e', SCRIPT])
  return {
    async convert(line) {
      child.stdin.write(line)
      const [chunk] = await once(child.stdout, 'data')
      return String(chunk)
    },
    async close() {
      child.stdin.end()
      if (child.exitCode === null) await once(child, 'exit')
    },
  }
}

module.exports = { startConverter }
