import type { JestEnvironmentConfig } from '@jest/environment'
import { type DiagnoseOptions, exitWatch, type Session } from 'netsan'
import { sourceLineReader } from './source.ts'

const { isMainThread, parentPort } = process.getBuiltinModule('node:worker_threads')

/**
 * When Jest is done with this process and something still keeps it alive, say what and where, instead
 * of Jest's bare "did not exit one second after the test run has completed" (in band) or "A worker
 * process has failed to exit gracefully" (workers). Armed after every test file, disarmed by the next.
 */
export function exitDiagnosis(config: JestEnvironmentConfig, session: Session) {
  const { globalConfig } = config
  const watching = globalConfig.watch || globalConfig.watchAll
  const options: DiagnoseOptions = {
    heading: (n) =>
      `netsan: Jest is done with this process (pid ${process.pid}), but ${n} handle${n === 1 ? '' : 's'} still keep${n === 1 ? 's' : ''} it alive`,
    root: session.options.root,
    cleanup: session.options.cleanup,
    kinds: session.options.kinds,
    sourceLine: sourceLineReader(session.options.root),
  }
  return {
    fileStarted(): void {
      if (!watching) exitWatch().fileStarted()
    },
    fileEnded(): void {
      if (watching) return
      // A jest-worker child (process or thread) is told to end by a message: its listener goes away.
      if (process.send !== undefined)
        exitWatch().fileEnded(options, { finished: () => process.listenerCount('message') === 0 })
      else if (!isMainThread && parentPort)
        exitWatch().fileEnded(options, { finished: () => parentPort.listenerCount('message') === 0 })
      // In band: Jest waits `openHandlesTimeout` after the run before it warns; netsan, as long after the last file.
      else exitWatch().fileEnded(options, { idleMs: globalConfig.openHandlesTimeout || 1000 })
    },
  }
}
