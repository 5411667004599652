import { expect, test } from 'vitest'
import { startConverter } from '../src/converter.ts'

test('leaks: converter process never closed', async () => {
  const converter = startConverter()
  expect(await converter.convert('hello')).toBe('HELLO')
  // Forgot converter.close(): the child process outlives the test.
})

test('fixed: converter process closed', async () => {
  const converter = startConverter()
  try {
    expect(await converter.convert('hello')).toBe('HELLO')
  } finally {
    await converter.close()
  }
})
