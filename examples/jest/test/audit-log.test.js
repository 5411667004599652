const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { appendAudit, appendAuditFixed } = require('../src/audit-log.js')

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netsan-example-'))
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

test('leaks: audit log FileHandle never closed', async () => {
  await appendAudit(path.join(dir, 'audit.log'), 'login alice')
  expect(fs.readFileSync(path.join(dir, 'audit.log'), 'utf8')).toContain('login alice')
})

test('fixed: audit log FileHandle closed in finally', async () => {
  await appendAuditFixed(path.join(dir, 'audit.log'), 'logout alice')
  expect(fs.readFileSync(path.join(dir, 'audit.log'), 'utf8')).toContain('logout alice')
})
