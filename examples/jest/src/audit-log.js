// Appends to an audit log file (the `file` handle kind).
const fs = require('node:fs/promises')

/** Leaks: writes the entry and walks away from the FileHandle (Node closes it only when it is collected). */
async function appendAudit(file, entry) {
  const handle = await fs.open(file, 'a')
  await handle.write(`${entry}\n`)
}

/** Fixed: closes the FileHandle in `finally`. */
async function appendAuditFixed(file, entry) {
  const handle = await fs.open(file, 'a')
  try {
    await handle.write(`${entry}\n`)
  } finally {
    await handle.close()
  }
}

module.exports = { appendAudit, appendAuditFixed }
