/**
 * Redaction of URLs before netsan prints or writes them (failure messages, warnings, JSON reports and
 * so every `netsan report` format, baselines): userinfo, fragments, and the values of query (and `;path`)
 * parameters whose name says they hold a secret. Names are matched by pattern, not from a fixed list:
 * credentials come in every spelling (`access_token`, `access-token`, `accessToken`, `X-Goog-Signature`),
 * and hiding a harmless value costs little where printing a secret in a CI log costs a rotation.
 */

/** Words that mark a secret anywhere in a parameter name (compared lower-case, without `-`, `_`, `.`). */
const SECRET_WORDS =
  /token|secret|key|sig|pass|pwd|auth|session|sessid|credential|jwt|assertion|ticket|saml|cookie|bearer|hmac|private/

/** Short names that are secrets alone or at the end of a name (`code`, `auth_code`, `totp`, `sas`). */
const SECRET_ENDINGS = /(?:^|[^a-z])(?:sas|otp|code|sid|pin|pw)$|(?:code|otp)$/

/** A JSON Web Token, whatever the parameter or path segment it sits in. */
const JWT = /^eyJ[\w-]*\.[\w-]+\.[\w-]*$/

/** Whether the value of a parameter of this name is a secret (the name as written, percent-encoded or not). */
export function isSecretName(name: string): boolean {
  let decoded = name
  try {
    decoded = decodeURIComponent(name.replaceAll('+', ' '))
  } catch {}
  const lower = decoded.toLowerCase()
  return SECRET_WORDS.test(lower.replace(/[-_.\s]/g, '')) || SECRET_ENDINGS.test(lower)
}

function isSecretValue(value: string): boolean {
  let decoded = value
  try {
    decoded = decodeURIComponent(value)
  } catch {}
  return JWT.test(decoded)
}

/** `a=1&token=x` → `a=1&token=***`; a parameter without `=` is kept unless it looks like a token. */
function redactPairs(pairs: string, separator: string): string {
  return pairs
    .split(separator)
    .map((pair) => {
      const eq = pair.indexOf('=')
      if (eq === -1) return isSecretValue(pair) ? '***' : pair
      const name = pair.slice(0, eq)
      return isSecretName(name) || isSecretValue(pair.slice(eq + 1)) ? `${name}=***` : pair
    })
    .join(separator)
}

/** Path segments: `;jsessionid=…` parameters and tokens (JWTs) standing alone as a segment. */
function redactPath(path: string): string {
  return path
    .split('/')
    .map((segment) => {
      if (isSecretValue(segment)) return '***'
      const semi = segment.indexOf(';')
      return semi === -1 ? segment : `${segment.slice(0, semi)};${redactPairs(segment.slice(semi + 1), ';')}`
    })
    .join('/')
}

/**
 * Hides credentials before a URL is printed or written: userinfo, fragment and secret values become
 * `***`/`…`. A URL with nothing to hide comes back exactly as written.
 */
export function redactUrl(url: string): string {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return redactUnparsed(url)
  }
  if (parsed.host === '' && !/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return redactUnparsed(url)
  const query = parsed.search.slice(1)
  const search = query && redactPairs(query, '&')
  const path = redactPath(parsed.pathname)
  const userinfo = parsed.username !== '' || parsed.password !== ''
  if (!userinfo && !parsed.hash && search === query && path === parsed.pathname) return url
  return `${parsed.protocol}//${userinfo ? '***@' : ''}${parsed.host}${path}${search ? `?${search}` : ''}${parsed.hash ? '#…' : ''}`
}

/** What `new URL` refuses (a proxy's absolute-form target glued to a host, a bare path): the same rules, by text. */
function redactUnparsed(url: string): string {
  const hash = url.indexOf('#')
  const withoutHash = hash === -1 ? url : url.slice(0, hash)
  const q = withoutHash.indexOf('?')
  const head = (q === -1 ? withoutHash : withoutHash.slice(0, q)).replace(/\/\/[^/@\s]*@/g, '//***@')
  const query = q === -1 ? '' : `?${redactPairs(withoutHash.slice(q + 1), '&')}`
  return `${redactPath(head)}${query}${hash === -1 ? '' : '#…'}`
}

// A URL inside free text ends at whitespace or a quote; trailing punctuation belongs to the sentence.
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`]+/gi

/**
 * Redacts every URL inside a text (a description, an ignore rule, a reason): a second line of defence
 * for what reaches a report, so a URL that a tracker forgot, or a user's own rule, never prints a secret.
 */
export function redactText(text: string): string {
  return text.replace(URL_IN_TEXT, (match) => {
    const trail = /[.,;:!?)\]}]+$/.exec(match)?.[0] ?? ''
    const url = trail ? match.slice(0, -trail.length) : match
    return redactUrl(url) + trail
  })
}

/** `http://host:port` without credentials. */
export function originOf(url: string): string {
  try {
    const u = new URL(url)
    if (u.host !== '') return `${u.protocol}//${u.host}`
  } catch {}
  return redactUrl(url)
}
