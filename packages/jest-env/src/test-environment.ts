import path from 'node:path'
import type { EnvironmentContext, JestEnvironmentConfig } from '@jest/environment'
import { TestEnvironment as NodeEnvironment } from 'jest-environment-node'
import { addOwnDirectory } from 'netsan'
import { loadBase } from './base.ts'
import { type NetsanEnvironmentClass, withNetsan } from './environment.ts'
import { rawOptions, refusal } from './options.ts'

// Frames of netsan and of this adapter never count as user code, in dist or (source-mapped, as Jest
// maps stacks) in src.
for (const dir of ['dist', 'src']) {
  addOwnDirectory(path.join(__dirname, '..', dir, path.sep))
  addOwnDirectory(path.join(path.dirname(require.resolve('netsan/package.json')), dir, path.sep))
}

const NodeNetsan = withNetsan(NodeEnvironment)
const byBase = new Map<string, NetsanEnvironmentClass>()

function baseOf(config: JestEnvironmentConfig): string {
  const raw = rawOptions(config) as { base?: unknown } | undefined
  return typeof raw?.base === 'string' && raw.base !== '' ? raw.base : 'node'
}

function classFor(base: string, config: JestEnvironmentConfig): NetsanEnvironmentClass {
  let cls = byBase.get(base)
  if (!cls) {
    try {
      cls = withNetsan(loadBase(base, config.projectConfig.rootDir))
    } catch (error) {
      throw refusal(error)
    }
    byBase.set(base, cls)
  }
  return cls
}

/**
 * The node environment with netsan. Option `base` ('jsdom' or a module path) wraps another
 * environment instead: Jest constructs this export, which builds the right class.
 */
export const TestEnvironment: NetsanEnvironmentClass = new Proxy(NodeNetsan, {
  construct(target, args: [JestEnvironmentConfig, EnvironmentContext], newTarget) {
    const base = baseOf(args[0])
    if (base === 'node') return Reflect.construct(target, args, newTarget)
    const cls = classFor(base, args[0])
    return Reflect.construct(cls, args, newTarget === TestEnvironment ? cls : newTarget)
  },
})

export type { NetsanEnvironment, NetsanEnvironmentClass } from './environment.ts'
export { withNetsan } from './environment.ts'
