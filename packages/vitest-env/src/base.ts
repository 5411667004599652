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
 * Vitest's `node` environment as `setup()` uses it (outside the vm pools): it gives the global `console`
 * node:console's `Console` and takes it back at teardown, as it has since it was copied from Jest's.
 * Written here rather than imported: `vitest/runtime` costs each fresh worker ≈ 5 ms, one file in three of
 * netsan's own setup time (bench/README.md). `test/base.test.ts` holds it to the installed Vitest's.
 */
const { Console: NodeConsole } = process.getBuiltinModule('node:console')
export const nodeSetup: Environment['setup'] = (global) => {
  global.console.Console = NodeConsole
  return {
    teardown(g: any) {
      delete g.console.Console
    },
  }
}
const NODE: Environment = { name: 'node', viteEnvironment: 'ssr', setup: nodeSetup }

/**
 * The environment netsan wraps: a built-in name ('node', 'jsdom', 'happy-dom', 'edge-runtime') or a
 * module. A base that cannot be used is a bad option: netsan's option error (`invalid`). `forVm`: the
 * caller needs `setupVM` (the vm pools), which only Vitest's own `node` environment has.
 */
export async function loadBase(
  base: string,
  invalid: (message: string) => Error,
  forVm = false,
): Promise<Environment> {
  if (base === 'netsan') {
    throw invalid(`netsan: invalid value for option "base": received "netsan"; allowed: ${ALLOWED}`)
  }
  if (base === 'node' && !forVm) return NODE
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
