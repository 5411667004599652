// Price-list refresh. The leaky version fires a request with no deadline: if the
// upstream accepts the connection but never answers, the request (and its socket)
// hang for as long as the process lives.

export type PriceList = Record<string, number>

/** Leaks: fire-and-forget, no AbortSignal, errors swallowed ("the next refresh retries"). */
export function refreshInBackground(url: string, onPrices: (prices: PriceList) => void): void {
  fetch(url)
    .then((res) => res.json() as Promise<PriceList>)
    .then(onPrices)
    .catch(() => {})
}

/** Fixed: the caller's deadline is plumbed through, and the caller awaits the result. */
export async function refresh(url: string, { signal }: { signal: AbortSignal }): Promise<PriceList> {
  const res = await fetch(url, { signal })
  return (await res.json()) as PriceList
}
