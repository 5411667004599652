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

/** The environment netsan wraps: a built-in name ('node', 'jsdom', 'happy-dom', 'edge-runtime') or a module. */
export async function loadBase(base: string): Promise<Environment> {
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
    throw new Error(
      `netsan: option "base" is ${JSON.stringify(base)}, which is neither a Vitest built-in environment (node, jsdom, happy-dom, edge-runtime) nor a loadable module: ${(error as Error).message}`,
    )
  }
  if (!mod.default || typeof mod.default.setup !== 'function') {
    throw new Error(
      `netsan: option "base" module ${JSON.stringify(base)} has no default export with a setup() method`,
    )
  }
  return mod.default
}
