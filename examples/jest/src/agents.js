const http = require('node:http')
const { Agent, request } = require('undici')

// JSON API clients. The leaky versions build a new connection pool for every call and
// never close it: each call leaves one idle keep-alive connection behind.

/** Leaks: a fresh undici Agent per call, never closed. */
async function getJson(url) {
  const dispatcher = new Agent({ keepAliveTimeout: 30_000 })
  const { body } = await request(url, { dispatcher })
  return body.json()
}

/** Fixed: one Agent per client, closed by whoever owns the client. */
function createJsonClient() {
  const dispatcher = new Agent({ keepAliveTimeout: 30_000 })
  return {
    async get(url) {
      const { body } = await request(url, { dispatcher })
      return body.json()
    },
    close: () => dispatcher.close(),
  }
}

function readJson(res) {
  return new Promise((resolve, reject) => {
    let text = ''
    res.setEncoding('utf8')
    res.on('data', (chunk) => {
      text += chunk
    })
    res.on('end', () => resolve(JSON.parse(text)))
    res.on('error', reject)
  })
}

/** Leaks: a keep-alive `http.Agent` per call, never destroyed. */
function getJsonHttp(url) {
  const agent = new http.Agent({ keepAlive: true })
  return new Promise((resolve, reject) => {
    http.get(url, { agent }, (res) => resolve(readJson(res))).on('error', reject)
  })
}

/** Fixed: one keep-alive agent per client; `close()` destroys its sockets. */
function createHttpJsonClient() {
  const agent = new http.Agent({ keepAlive: true })
  return {
    get(url) {
      return new Promise((resolve, reject) => {
        http.get(url, { agent }, (res) => resolve(readJson(res))).on('error', reject)
      })
    },
    close: () => agent.destroy(),
  }
}

module.exports = { getJson, createJsonClient, getJsonHttp, createHttpJsonClient }
