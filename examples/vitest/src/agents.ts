import http from 'node:http'
import { Agent, request } from 'undici'

// JSON API clients. The leaky versions build a new connection pool for every call and
// never close it: each call leaves one idle keep-alive connection behind.

/** Leaks: a fresh undici Agent per call, never closed. */
export async function getJson(url: string): Promise<unknown> {
  const dispatcher = new Agent({ keepAliveTimeout: 30_000 })
  const { body } = await request(url, { dispatcher })
  return body.json()
}

/** Fixed: one Agent per client, closed by whoever owns the client. */
export function createJsonClient() {
  const dispatcher = new Agent({ keepAliveTimeout: 30_000 })
  return {
    async get(url: string): Promise<unknown> {
      const { body } = await request(url, { dispatcher })
      return body.json()
    },
    close: () => dispatcher.close(),
  }
}

function readJson(res: http.IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let text = ''
    res.setEncoding('utf8')
    res.on('data', (chunk: string) => {
      text += chunk
    })
    res.on('end', () => resolve(JSON.parse(text)))
    res.on('error', reject)
  })
}

/** Leaks: a keep-alive `http.Agent` per call, never destroyed. */
export function getJsonHttp(url: string): Promise<unknown> {
  const agent = new http.Agent({ keepAlive: true })
  return new Promise((resolve, reject) => {
    http.get(url, { agent }, (res) => resolve(readJson(res))).on('error', reject)
  })
}

/** Fixed: one keep-alive agent per client; `close()` destroys its sockets. */
export function createHttpJsonClient() {
  const agent = new http.Agent({ keepAlive: true })
  return {
    get(url: string): Promise<unknown> {
      return new Promise((resolve, reject) => {
        http.get(url, { agent }, (res) => resolve(readJson(res))).on('error', reject)
      })
    },
    close: () => agent.destroy(),
  }
}
