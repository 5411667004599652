// Reloads a config file when it changes (the `watcher` handle kind).
const fs = require('node:fs')

/** Calls `onChange` each time `file` changes; close the returned watcher when done. */
function watchConfig(file, onChange) {
  return fs.watch(file, () => onChange())
}

module.exports = { watchConfig }
