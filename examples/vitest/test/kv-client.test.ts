import net from 'node:net'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { kvGet, kvGetFixed } from '../src/kv-client.ts'
import { type Served, serve } from './serve.ts'

const store: Record<string, string> = { region: 'eu-west-1' }

// A line-protocol server that keeps each connection open for more commands.
let kv: Served
beforeAll(async () => {
  kv = await serve(
    net.createServer((socket) => {
      socket.setEncoding('utf8')
      socket.on('data', (chunk: string) => {
        for (const line of chunk.split('\n').filter(Boolean)) {
          const key = line.replace(/^GET /, '')
          socket.write(key in store ? `OK ${store[key]}\n` : `ERR no such key: ${key}\n`)
        }
      })
    }),
  )
})
afterAll(() => kv.close())

test('leaks: net socket left open on error path', async () => {
  await expect(kvGet(kv.port, 'zone')).rejects.toThrow('ERR no such key')
})

test('fixed: net socket destroyed in finally', async () => {
  await expect(kvGetFixed(kv.port, 'zone')).rejects.toThrow('ERR no such key')
})
