import http2 from 'node:http2'

// An HTTP/2 (h2c) client for the manifest service.

function getText(session: http2.ClientHttp2Session, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    session.once('error', reject)
    const req = session.request({ ':path': path })
    let text = ''
    req.setEncoding('utf8')
    req.on('data', (chunk: string) => {
      text += chunk
    })
    req.on('end', () => resolve(text))
    req.on('error', reject)
  })
}

/** Leaks: the session (one TCP connection, kept alive by design) is never closed. */
export async function fetchManifest(origin: string): Promise<string> {
  const session = http2.connect(origin)
  return getText(session, '/manifest')
}

/** Fixed: `session.close()` once the streams are done. */
export async function fetchManifestFixed(origin: string): Promise<string> {
  const session = http2.connect(origin)
  try {
    return await getText(session, '/manifest')
  } finally {
    session.close()
  }
}
