// Reads one price tick from the live feed (global WebSocket, i.e. undici's).

function nextMessage(ws: WebSocket): Promise<string> {
  return new Promise((resolve, reject) => {
    ws.addEventListener('message', (event) => resolve(String(event.data)), { once: true })
    ws.addEventListener('error', () => reject(new Error('ticker: connection failed')), { once: true })
  })
}

/** Closes `ws` and waits until it is really closed. */
export async function closeAndWait(ws: WebSocket): Promise<void> {
  if (ws.readyState === WebSocket.CLOSED) return
  const closed = new Promise((resolve) => ws.addEventListener('close', resolve, { once: true }))
  ws.close()
  await closed
}

/** Leaks: resolves on the first tick and walks away; the feed keeps streaming into an open socket. */
export async function firstTick(url: string): Promise<string> {
  const ws = new WebSocket(url)
  return nextMessage(ws)
}

/** Fixed: close the socket and wait for `close` before returning. */
export async function firstTickFixed(url: string): Promise<string> {
  const ws = new WebSocket(url)
  try {
    return await nextMessage(ws)
  } finally {
    await closeAndWait(ws)
  }
}
