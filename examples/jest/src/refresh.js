// Price-list refresh. The leaky version fires a request with no deadline: if the
// upstream accepts the connection but never answers, the request (and its socket)
// hang for as long as the process lives.

/** Leaks: fire-and-forget, no AbortSignal, errors swallowed ("the next refresh retries"). */
function refreshInBackground(url, onPrices) {
  fetch(url)
    .then((res) => res.json())
    .then(onPrices)
    .catch(() => {})
}

/** Fixed: the caller's deadline is plumbed through, and the caller awaits the result. */
async function refresh(url, { signal }) {
  const res = await fetch(url, { signal })
  return res.json()
}

module.exports = { refreshInBackground, refresh }
