const http2 = require('node:http2')

// An HTTP/2 (h2c) client for the manifest service.

function getText(session, path) {
  return new Promise((resolve, reject) => {
    session.once('error', reject)
    const req = session.request({ ':path': path })
    let text = ''
    req.setEncoding('utf8')
    req.on('data', (chunk) => {
      text += chunk
    })
    req.on('end', () => resolve(text))
    req.on('error', reject)
  })
}

/** Leaks: the session (one TCP connection, kept alive by design) is never closed. */
async function fetchManifest(origin) {
  const session = http2.connect(origin)
  return getText(session, '/manifest')
}

/** Fixed: `session.close()` once the streams are done. */
async function fetchManifestFixed(origin) {
  const session = http2.connect(origin)
  try {
    return await getText(session, '/manifest')
  } finally {
    session.close()
  }
}

module.exports = { fetchManifest, fetchManifestFixed }
