import { expect, test } from 'vitest'
import { startHasher } from '../src/hasher.ts'

const HELLO = '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824'

test('leaks: hashing worker never terminated', async () => {
  const hasher = startHasher()
  expect(await hasher.hash('hello')).toBe(HELLO)
  // Forgot hasher.close(): the worker thread keeps running.
})

test('fixed: hashing worker terminated', async () => {
  const hasher = startHasher()
  try {
    expect(await hasher.hash('hello')).toBe(HELLO)
  } finally {
    await hasher.close()
  }
})
