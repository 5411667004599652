const { watchPrice } = require('../src/prices.js')

test('leaks: price poller never stopped', async () => {
  const prices = []
  watchPrice(
    () => 1.0842,
    (p) => prices.push(p),
    10,
  )
  await new Promise((resolve) => setTimeout(resolve, 30))
  expect(prices.length).toBeGreaterThan(0)
  // Forgot watch.stop(): the interval keeps firing into later tests, and keeps Jest from exiting.
})

test('fixed: price poller stopped', async () => {
  const prices = []
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
