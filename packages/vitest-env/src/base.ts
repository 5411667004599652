/** The parts of Vitest's `Environment` netsan uses; declared here so the types work with Vitest 4 and 5. */
export interface EnvironmentReturn {
  teardown: (global: any) => unknown
}
export interface VmEnvironmentReturn {
  getVmContext: () => Record<string, any>
  teardown: () => unknown
}
export interface Environment {
  name: string
  viteEnvironment?: string
  transformMode?: 'web' | 'ssr'
  setupVM?: (options: Record<string, any>) => VmEnvironmentReturn | Promise<VmEnvironmentReturn>
  setup: (global: any, options: Record<string, any>) => EnvironmentReturn | Promise<EnvironmentReturn>
}

type Builtins = Record<string, Environment | undefined>

let builtins: Promise<Builtins> | undefined

/** Vitest 5 exports the built-in environments from `vitest/runtime`; Vitest 4 from `vitest/environments`. */
function loadBuiltins(): Promise<Builtins> {
  builtins ??= (async () => {
    for (const id of ['vitest/runtime', 'vitest/environments']) {
      try {
        const mod = (await import(id)) as { builtinEnvironments?: Builtins }
        if (mod.builtinEnvironments) return mod.builtinEnvironments
      } catch {}
    }
    throw new Error(
      'netsan: could not load Vitest built-in environments from vitest/runtime or vitest/environments',
    )
  })()
  return builtins
}

const ALLOWED = "'node', 'jsdom', 'happy-dom', 'edge-runtime' or a module path"

/**
 * The environment netsan wraps: a built-in name ('node', 'jsdom', 'happy-dom', 'edge-runtime') or a
 * module. A base that cannot be used is a bad option: netsan's option error (`invalid`).
 */
export async function loadBase(base: string, invalid: (message: string) => Error): Promise<Environment> {
  if (base === 'netsan') {
    throw invalid(`netsan: invalid value for option "base": received "netsan"; allowed: ${ALLOWED}`)
  }
  const env = (await loadBuiltins())[base]
  if (env) return env
  let mod: { default?: Environment }
  try {
    mod = (await import(
      base.startsWith('vitest-environment-') || base.startsWith('.') || base.startsWith('/')
        ? base
        : `vitest-environment-${base}`
    )) as { default?: Environment }
  } catch (error) {
    throw invalid(
      `netsan: invalid value for option "base": received ${JSON.stringify(base)}, which is neither a Vitest built-in environment nor a loadable module (${(error as Error).message.split('\n')[0]}); allowed: ${ALLOWED}`,
    )
  }
  if (!mod.default || typeof mod.default.setup !== 'function') {
    throw invalid(
      `netsan: invalid value for option "base": received ${JSON.stringify(base)}, a module with no default export with a setup() method; allowed: ${ALLOWED}`,
    )
  }
  return mod.default
}
