import { ansiColors, type Colors, plainColors } from 'netsan'

/**
 * Whether Jest colours its output, decided as its chalk 4 (supports-color 7) does for stdout: off with
 * `--no-color` or `FORCE_COLOR=0`/`false`; on with `--color` or any other `FORCE_COLOR`; else only on a
 * terminal that is not `TERM=dumb` (in CI only for the CI services chalk knows). Jest's workers have no
 * terminal: jest-worker sets `FORCE_COLOR=1` for them when the main process has colours. chalk 4 ignores
 * `NO_COLOR`; netsan honours it (https://no-color.org), as Vitest does.
 * @note docs/discoveries/runner-output.md
 */
export function jestColorsOn(
  env: NodeJS.ProcessEnv = process.env,
  argv: readonly string[] = process.argv,
  isTTY: boolean = process.stdout.isTTY === true,
): boolean {
  if (env.NO_COLOR) return false
  const flag = (f: string) => argv.includes(`--${f}`)
  let forced: boolean | undefined
  if (flag('no-color') || flag('no-colors') || flag('color=false') || flag('color=never')) forced = false
  else if (flag('color') || flag('colors') || flag('color=true') || flag('color=always')) forced = true
  if ('FORCE_COLOR' in env) {
    const value = env.FORCE_COLOR ?? ''
    forced = value === 'false' ? false : value === 'true' || value === '' || Number.parseInt(value, 10) > 0
  }
  if (forced !== undefined) return forced
  if (!isTTY || env.TERM === 'dumb') return false
  if ('CI' in env) {
    const known = ['TRAVIS', 'CIRCLECI', 'APPVEYOR', 'GITLAB_CI', 'GITHUB_ACTIONS', 'BUILDKITE']
    return known.some((name) => name in env) || env.CI_NAME === 'codeship'
  }
  return true
}

export function jestColors(): Colors {
  return jestColorsOn() ? ansiColors : plainColors
}
