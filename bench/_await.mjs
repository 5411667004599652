import { track } from 'netsan'

const mode = process.argv[2]
const file = mode === 'plain' ? undefined : track(mode === 'handles' ? { kinds: ['network', 'handles'] } : {})
const t = file?.track('t')
const noop = () => {}
const body = async () => {
  for (let i = 0; i < 20000; i++) clearTimeout(setTimeout(noop, 1000))
  globalThis.gc()
  for (let r = 0; r < 3; r++) {
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < 200000; i++) await Promise.resolve(i)
    console.log(mode, 'ns/await', Number(process.hrtime.bigint() - t0) / 200000)
  }
}
await (t ? t.run(body) : body())
await t?.end()
await file?.end()
