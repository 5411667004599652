const net = require('node:net')
const { kvGet, kvGetFixed } = require('../src/kv-client.js')
const { serve } = require('./serve.js')

const store = { region: 'eu-west-1' }

// A line-protocol server that keeps each connection open for more commands.
let kv
beforeAll(async () => {
  kv = await serve(
    net.createServer((socket) => {
      socket.setEncoding('utf8')
      socket.on('data', (chunk) => {
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
