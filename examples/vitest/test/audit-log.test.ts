import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, expect, test } from 'vitest'
import { appendAudit, appendAuditFixed } from '../src/audit-log.ts'

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
