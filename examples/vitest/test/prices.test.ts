import { expect, test } from 'vitest'
import { watchPrice } from '../src/prices.ts'

test('leaks: price poller never stopped', async () => {
  const prices: number[] = []
  watchPrice(
    () => 1.0842,
    (p) => prices.push(p),
    10,
  )
  await new Promise((resolve) => setTimeout(resolve, 30))
  expect(prices.length).toBeGreaterThan(0)
  // Forgot watch.stop(): the interval keeps firing into later tests, and keeps the process alive.
})

test('fixed: price poller stopped', async () => {
  const prices: number[] = []
  const watch = watchPrice(
    () => 1.0842,
    (p) => prices.push(p),
    10,
  )
  try {
    await new Promise((resolve) => setTimeout(resolve, 30))
    expect(prices.length).toBeGreaterThan(0)
  } finally {
    watch.stop()
  }
})
