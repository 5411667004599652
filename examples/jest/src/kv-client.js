const { once } = require('node:events')
const net = require('node:net')

// A client for a tiny line protocol: send "GET <key>\n", get "OK <value>\n" or "ERR <why>\n".

function readLine(socket) {
  return new Promise((resolve, reject) => {
    let buffered = ''
    const onData = (chunk) => {
      buffered += chunk
      const end = buffered.indexOf('\n')
      if (end === -1) return
      cleanup()
      resolve(buffered.slice(0, end))
    }
    const onEnd = () => {
      cleanup()
      reject(new Error('kv: connection closed before a reply'))
    }
    const onError = (err) => {
      cleanup()
      reject(err)
    }
    const cleanup = () => {
      socket.off('data', onData).off('end', onEnd).off('error', onError)
    }
    socket.setEncoding('utf8')
    socket.on('data', onData).on('end', onEnd).on('error', onError)
  })
}

/** Leaks: on an "ERR" reply it throws before `socket.end()`, so the socket stays open. */
async function kvGet(port, key) {
  const socket = net.connect(port, '127.0.0.1')
  await once(socket, 'connect')
  socket.write(`GET ${key}\n`)
  const reply = await readLine(socket)
  if (!reply.startsWith('OK ')) throw new Error(`kv: ${reply}`)
  socket.end()
  return reply.slice(3)
}

/** Fixed: `finally { socket.destroy() }` closes it on every path. */
async function kvGetFixed(port, key) {
  const socket = net.connect(port, '127.0.0.1')
  try {
    await once(socket, 'connect')
    socket.write(`GET ${key}\n`)
    const reply = await readLine(socket)
    if (!reply.startsWith('OK ')) throw new Error(`kv: ${reply}`)
    return reply.slice(3)
  } finally {
    socket.destroy()
  }
}

module.exports = { kvGet, kvGetFixed }
