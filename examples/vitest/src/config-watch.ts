// Reloads a config file when it changes (the `watcher` handle kind).
import fs from 'node:fs'

/** Calls `onChange` each time `file` changes; close the returned watcher when done. */
export function watchConfig(file: string, onChange: () => void): fs.FSWatcher {
  return fs.watch(file, () => onChange())
}
