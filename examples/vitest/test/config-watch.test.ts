import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { watchConfig } from '../src/config-watch.ts'

let dir: string
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
