const SENSITIVE =
  /^(token|access_token|refresh_token|id_token|key|api_key|apikey|api-key|secret|client_secret|password|passwd|pwd|sig|signature|auth|authorization|code|session|sessionid|credential|credentials|x-amz-signature|x-amz-credential|x-amz-security-token)$/i

/** Hides credentials before a URL is printed or written: userinfo and sensitive query values become `***`. */
export function redactUrl(url: string): string {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return url.replace(/\/\/[^/@\s]*@/, '//***@')
  }
  const hadUserinfo = parsed.username !== '' || parsed.password !== ''
  let search = ''
  if (parsed.search.length > 1) {
    search = `?${parsed.search
      .slice(1)
      .split('&')
      .map((pair) => {
        const eq = pair.indexOf('=')
        const name = eq === -1 ? pair : pair.slice(0, eq)
        let decoded = name
        try {
          decoded = decodeURIComponent(name)
        } catch {}
        return eq !== -1 && SENSITIVE.test(decoded) ? `${name}=***` : pair
      })
      .join('&')}`
  }
  const userinfo = hadUserinfo ? '***@' : ''
  return `${parsed.protocol}//${userinfo}${parsed.host}${parsed.pathname}${search}${parsed.hash ? '#…' : ''}`
}

/** `http://host:port` without credentials. */
export function originOf(url: string): string {
  try {
    const u = new URL(url)
    return `${u.protocol}//${u.host}`
  } catch {
    return redactUrl(url)
  }
}
