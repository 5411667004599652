// Appends to an audit log file (the `file` handle kind).
import fs from 'node:fs/promises'

/** Leaks: writes the entry and walks away from the FileHandle (Node closes it only when it is collected). */
export async function appendAudit(file: string, entry: string): Promise<void> {
  const handle = await fs.open(file, 'a')
  await handle.write(`${entry}\n`)
}

/** Fixed: closes the FileHandle in `finally`. */
export async function appendAuditFixed(file: string, entry: string): Promise<void> {
  const handle = await fs.open(file, 'a')
  try {
    await handle.write(`${entry}\n`)
  } finally {
    await handle.close()
  }
}
