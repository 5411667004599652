import type { Worker } from 'node:worker_threads'
import { CHANNELS, subscribe } from '../../channels.ts'
import type { Engine } from '../../engine.ts'
import type { HandleLedger } from './ledger.ts'
import { handleSite } from './ledger.ts'

/** A Worker's threadId turns -1 once its thread has exited. @note docs/discoveries/handles.md */
function running(worker: Worker): boolean {
  return worker.threadId !== -1
}

/** `worker`: a worker_threads Worker not terminated (or not exited) when its scope ends; from Node's `worker_threads` channel. */
export function installWorkerTracker(_engine: Engine, ledger: HandleLedger): () => void {
  return subscribe<{ worker: Worker }>(CHANNELS.workerThreads, ({ worker }) => {
    if (!worker) return
    const site = handleSite()
    if (!site) return
    const ref = new WeakRef(worker)
    const threadId = worker.threadId
    ledger.add(
      {
        kind: 'worker',
        describe: () => `worker thread ${threadId}, still running`,
        isOpen: () => {
          const w = ref.deref()
          return w !== undefined && running(w)
        },
        isDone: () => {
          const w = ref.deref()
          return w === undefined || !running(w)
        },
        keepsAlive: () => {
          const w = ref.deref() as (Worker & { hasRef?: () => boolean }) | undefined
          return w !== undefined && running(w) && (typeof w.hasRef === 'function' ? w.hasRef() : true)
        },
        whenClosed: (done) => {
          const w = ref.deref()
          if (!w || !running(w)) done()
          else w.once('exit', () => done())
        },
        close: () => {
          const w = ref.deref()
          if (w && running(w)) w.terminate().catch(() => {})
        },
      },
      site,
    )
  })
}
