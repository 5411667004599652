const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { watchConfig } = require('../src/config-watch.js')

let dir
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netsan-example-'))
  fs.writeFileSync(path.join(dir, 'config.json'), '{}')
})
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

test('leaks: config watcher never closed', () => {
  const watcher = watchConfig(path.join(dir, 'config.json'), () => {})
  expect(watcher).toBeDefined()
  // Forgot watcher.close(): the file stays watched after the test.
})

test('fixed: config watcher closed', () => {
  const watcher = watchConfig(path.join(dir, 'config.json'), () => {})
  watcher.close()
})
