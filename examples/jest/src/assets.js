const http = require('node:http')
const { request } = require('undici')

// Release-asset checks: "is this download there?" Each leaky version looks only at the
// status and drops the (1 MiB) body on the floor. The body keeps its connection busy
// until it is garbage-collected, so under load the pool runs dry.

/** Leaks: `res.ok` is read, the body never is. */
async function assetExists(url) {
  const res = await fetch(url)
  return res.ok
}

/** Fixed: cancelling the unwanted body frees the connection at once. */
async function assetExistsFixed(url) {
  const res = await fetch(url)
  await res.body?.cancel()
  return res.ok
}

/** Leaks: undici's `request` hands back a stream that must be consumed or dumped. */
async function assetStatus(url) {
  const { statusCode } = await request(url)
  return statusCode
}

/** Fixed: `body.dump()` discards the rest of the body and releases the connection. */
async function assetStatusFixed(url) {
  const { statusCode, body } = await request(url)
  await body.dump()
  return statusCode
}

/** Leaks: a `node:http` response that is never read or resumed stays paused forever. */
function assetStatusHttp(url) {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => resolve(res.statusCode)).on('error', reject)
  })
}

/** Fixed: `res.resume()` drains the body so the socket goes back to the agent. */
function assetStatusHttpFixed(url) {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        res.resume()
        resolve(res.statusCode)
      })
      .on('error', reject)
  })
}

module.exports = {
  assetExists,
  assetExistsFixed,
  assetStatus,
  assetStatusFixed,
  assetStatusHttp,
  assetStatusHttpFixed,
}
