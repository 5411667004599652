// Polls a price source on a timer (the `timer` handle kind).

export interface PriceWatch {
  stop(): void
}

/** Calls `onPrice` with a fresh price every `everyMs` until `stop()`. */
export function watchPrice(read: () => number, onPrice: (price: number) => void, everyMs = 1000): PriceWatch {
  const timer = setInterval(() => onPrice(read()), everyMs)
  return { stop: () => clearInterval(timer) }
}
