// Polls a price source on a timer (the `timer` handle kind).

/** Calls `onPrice` with a fresh price every `everyMs` until `stop()`. */
function watchPrice(read, onPrice, everyMs = 1000) {
  const timer = setInterval(() => onPrice(read()), everyMs)
  return { stop: () => clearInterval(timer) }
}

module.exports = { watchPrice }
