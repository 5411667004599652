const { once } = require('node:events')
const WebSocket = require('ws')

// Reads one price tick from the live feed (the `ws` client).

/** Closes `ws` and waits until it is really closed. */
async function closeAndWait(ws) {
  if (ws.readyState === WebSocket.CLOSED) return
  const closed = once(ws, 'close')
  ws.close()
  await closed
}

/** Leaks: resolves on the first tick and walks away; the feed keeps streaming into an open socket. */
async function firstTick(url) {
  const ws = new WebSocket(url)
  const [data] = await once(ws, 'message')
  return String(data)
}

/** Fixed: close the socket and wait for `close` before returning. */
async function firstTickFixed(url) {
  const ws = new WebSocket(url)
  try {
    const [data] = await once(ws, 'message')
    return String(data)
  } finally {
    await closeAndWait(ws)
  }
}

module.exports = { closeAndWait, firstTick, firstTickFixed }
