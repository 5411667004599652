// ESM: `import 'netsan'` resolves to netsan's ESM declarations.
import { defineNetsanOptions, type Leak, LeakError, type NetsanOptions, track } from 'netsan'

const options: NetsanOptions = { mode: 'warn', kinds: ['body', 'socket'] }
export const leaks: Promise<Leak[]> = track(options).end()
export const isLeak = (error: unknown): boolean => error instanceof LeakError && error.leaks.length > 0
export const typed: NetsanOptions = defineNetsanOptions({ bodies: 'all' })
// @ts-expect-error: 'bodys' is not an option of netsan
defineNetsanOptions({ bodys: 1 })
