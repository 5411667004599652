import { parseArgs } from 'node:util'

/** Bad command-line input: printed as is, exit code 2, no stack trace. */
export class UsageError extends Error {
  override name = 'UsageError'
}

export interface FlagSpec {
  [name: string]: {
    type: 'string' | 'boolean'
    short?: string
    multiple?: boolean
    /** The values a string flag allows, named when it is given none. */
    values?: readonly string[]
  }
}

/** `util.parseArgs` with messages for people ("unknown flag --x for `netsan report`; see netsan --help"). */
export function parse(
  command: string,
  argv: string[],
  flags: FlagSpec,
): { values: Record<string, string | string[] | boolean | undefined>; positionals: string[] } {
  const options = Object.fromEntries(
    Object.entries(flags).map(([name, { values: _, ...spec }]) => [name, spec]),
  )
  try {
    const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true })
    return { values: values as Record<string, string | string[] | boolean | undefined>, positionals }
  } catch (error) {
    const e = error as Error & { code?: string }
    const known = Object.keys(flags)
      .map((f) => `--${f}`)
      .join(', ')
    if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      const flag = /'([^']+)'/.exec(e.message)?.[1] ?? '?'
      throw new UsageError(`netsan ${command}: unknown flag ${flag}; known flags: ${known}`)
    }
    if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      const name = /--([\w-]+)/.exec(e.message)?.[1]
      const spec = name === undefined ? undefined : flags[name]
      if (name && spec?.type === 'string' && /argument missing/.test(e.message)) {
        const allowed = spec.values ? `: one of ${spec.values.join(', ')}` : ''
        throw new UsageError(`netsan ${command}: --${name} needs a value${allowed}`)
      }
      throw new UsageError(`netsan ${command}: ${e.message.replace(/^Option /, 'flag ')}`)
    }
    throw new UsageError(`netsan ${command}: ${e.message}`)
  }
}

export function oneOf<T extends string>(
  command: string,
  flag: string,
  value: string,
  allowed: readonly T[],
): T {
  if ((allowed as readonly string[]).includes(value)) return value as T
  // `netsan report --format reports/` takes the folder as the format's value.
  const hint = /[/\\.]/.test(value) ? ` (it looks like a file: --${flag} needs its value right after it)` : ''
  throw new UsageError(
    `netsan ${command}: --${flag} ${JSON.stringify(value)} is not one of ${allowed.join(', ')}${hint}`,
  )
}
