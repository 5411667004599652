import type { Colors } from 'netsan'
import type { Core } from './core.ts'

/**
 * Whether Vitest colours its output, decided as its tinyrainbow (3.x, bundled in Vitest 4.1 and 5) does,
 * in the main process and in every worker alike: off with `NO_COLOR` (any value) or `--no-color`; else on
 * with `FORCE_COLOR` (any value), `--color`, on Windows, in CI, or unless `TERM=dumb` or `FORCE_TTY=false`.
 * Whether the output is a terminal does not matter to it: Vitest colours piped output too.
 * @note docs/discoveries/runner-output.md
 */
export function vitestColorsOn(
  env: NodeJS.ProcessEnv = process.env,
  argv: readonly string[] = process.argv,
  platform: string = process.platform,
): boolean {
  if ('NO_COLOR' in env || argv.includes('--no-color')) return false
  return (
    'FORCE_COLOR' in env ||
    argv.includes('--color') ||
    platform === 'win32' ||
    (env.FORCE_TTY !== 'false' && env.TERM !== 'dumb') ||
    'CI' in env
  )
}

export function vitestColors(core: Core): Colors {
  return vitestColorsOn() ? core.ansiColors : core.plainColors
}
