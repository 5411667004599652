import { once } from 'node:events'
import net from 'node:net'

// A client for a tiny line protocol: send "GET <key>\n", get "OK <value>\n" or "ERR <why>\n".

function readLine(socket: net.Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = ''
    const onData = (chunk: string) => {
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
    const onError = (err: Error) => {
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
export async function kvGet(port: number, key: string): Promise<string> {
  const socket = net.connect(port, '127.0.0.1')
  await once(socket, 'connect')
  socket.write(`GET ${key}\n`)
  const reply = await readLine(socket)
  if (!reply.startsWith('OK ')) throw new Error(`kv: ${reply}`)
  socket.end()
  return reply.slice(3)
}

/** Fixed: `finally { socket.destroy() }` closes it on every path. */
export async function kvGetFixed(port: number, key: string): Promise<string> {
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
