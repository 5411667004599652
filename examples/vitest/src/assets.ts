import http from 'node:http'
import { request } from 'undici'

// Release-asset checks: "is this download there?" Each leaky version looks only at the
// status and drops the (1 MiB) body on the floor. The body keeps its connection busy
// until it is garbage-collected, so under load the pool runs dry.

/** Leaks: `res.ok` is read, the body never is. */
export async function assetExists(url: string): Promise<boolean> {
  const res = await fetch(url)
  return res.ok
}

/** Fixed: cancelling the unwanted body frees the connection at once. */
export async function assetExistsFixed(url: string): Promise<boolean> {
  const res = await fetch(url)
  await res.body?.cancel()
  return res.ok
}

/** Leaks: undici's `request` hands back a stream that must be consumed or dumped. */
export async function assetStatus(url: string): Promise<number> {
  const { statusCode } = await request(url)
  return statusCode
}

/** Fixed: `body.dump()` discards the rest of the body and releases the connection. */
export async function assetStatusFixed(url: string): Promise<number> {
  const { statusCode, body } = await request(url)
  await body.dump()
  return statusCode
}

/** Leaks: a `node:http` response that is never read or resumed stays paused forever. */
export function assetStatusHttp(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => resolve(res.statusCode ?? 0)).on('error', reject)
  })
}

/** Fixed: `res.resume()` drains the body so the socket goes back to the agent. */
export function assetStatusHttpFixed(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        res.resume()
        resolve(res.statusCode ?? 0)
      })
      .on('error', reject)
  })
}
