// In a CommonJS Jest test, require('netsan') gives the helpers of the netsan environment.
const { allowLeaks } = require('netsan')
const { startDevServer } = require('../src/dev-server.js')

// Won't exit: the dev server would run for two minutes and keep Jest's process alive ("Jest did not
// exit one second after the test run has completed", or a worker force-exited). The test keeps it on
// purpose; at the end netsan names it, with the line that started it, and stops it.
test("won't exit: dev server kept until the end", async () => {
  allowLeaks('child', 'the dev server runs until the end of the run')
  const server = await startDevServer()
  expect(server.pid).toBeGreaterThan(0)
})
