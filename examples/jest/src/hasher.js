// Hashes off the main thread (the `worker` handle kind).
const { Worker } = require('node:worker_threads')

const CODE = `
const { parentPort } = require('node:worker_threads')
const { createHash } = require('node:crypto')
parentPort.on('message', (s) => parentPort.postMessage(createHash('sha256').update(s).digest('hex')))
`

function startHasher() {
  const worker = new Worker(CODE, { eval: true })
  return {
    hash: (text) =>
      new Promise((resolve) => {
        worker.once('message', resolve)
        worker.postMessage(text)
      }),
    close: async () => {
      await worker.terminate()
    },
  }
}

module.exports = { startHasher }
