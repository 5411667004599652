import assert from 'node:assert/strict'
import http from 'node:http'
import { describe, test } from 'node:test'
import nock from 'nock'
import { getGlobalDispatcher, MockAgent, setGlobalDispatcher } from 'undici'
import { track } from '../src/index.ts'
import { assertCreatedAt, only, ROOT } from './helpers.ts'

describe('mocked traffic', () => {
  test('a nock-served fetch body ignored is a body leak', async () => {
    nock('http://api.example.test').get('/report').reply(200, 'x'.repeat(2048))
    const scope = track({ root: ROOT, bodies: 'all' })
    const res = await fetch('http://api.example.test/report') // MARK:nock-fetch
    assert.equal(res.status, 200)
    assertCreatedAt(only(await scope.end(), 'body'), import.meta.url, 'MARK:nock-fetch')
    nock.cleanAll()
  })

  test('a nock-served http.get response never consumed is a body leak', async () => {
    nock('http://api.example.test').get('/big').reply(200, 'x'.repeat(100_000))
    const scope = track({ root: ROOT })
    const res = await new Promise<http.IncomingMessage>((resolve) =>
      http.get('http://api.example.test/big', resolve),
    )
    assert.equal(res.statusCode, 200)
    only(await scope.end(), 'body')
    nock.cleanAll()
  })

  test('fixed: nock-served bodies consumed', async () => {
    nock('http://api.example.test').get('/report').reply(200, 'x'.repeat(2048))
    const scope = track({ root: ROOT, bodies: 'all' })
    await (await fetch('http://api.example.test/report')).text()
    assert.deepEqual(await scope.end(), [])
    nock.cleanAll()
  })

  test('a MockAgent-served fetch body ignored is a body leak', async () => {
    const previous = getGlobalDispatcher()
    const mock = new MockAgent()
    mock.disableNetConnect()
    mock.get('http://api.example.test').intercept({ path: '/users' }).reply(200, '[1,2,3]')
    setGlobalDispatcher(mock)
    try {
      const scope = track({ root: ROOT, bodies: 'all' })
      const res = await fetch('http://api.example.test/users') // MARK:mockagent
      assert.equal(res.status, 200)
      assertCreatedAt(only(await scope.end(), 'body'), import.meta.url, 'MARK:mockagent')
      const fixed = track({ root: ROOT, bodies: 'all' })
      mock.get('http://api.example.test').intercept({ path: '/users' }).reply(200, '[1,2,3]')
      await (await fetch('http://api.example.test/users')).json()
      assert.deepEqual(await fixed.end(), [])
    } finally {
      setGlobalDispatcher(previous)
      await mock.close()
    }
  })
})
