// Starts a "dev server" process that shares the test runner's output (stdio: 'inherit').
const { spawn } = require('node:child_process')
const { once } = require('node:events')

/** A process that would run for two minutes: the runner's process cannot end before it does. */
async function startDevServer() {
  const server = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 120_000)'], { stdio: 'inherit' })
  await once(server, 'spawn')
  return server
}

module.exports = { startDevServer }
