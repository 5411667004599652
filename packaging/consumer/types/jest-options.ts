// Jest's config does not know netsan's options: defineNetsanOptions() or `satisfies` types them.
import type { Config } from 'jest'
import { defineNetsanOptions } from 'jest-environment-netsan'
import type { NetsanOptions } from 'netsan'

export const withHelper: Config = {
  testEnvironment: 'netsan',
  testEnvironmentOptions: { netsan: defineNetsanOptions({ mode: 'warn', bodies: 'all' }) },
}

export const withSatisfies: Config = {
  testEnvironment: 'netsan',
  testEnvironmentOptions: { netsan: { mode: 'warn', settleMs: 200 } satisfies NetsanOptions },
}

// @ts-expect-error: 'bodys' is not an option of netsan
defineNetsanOptions({ bodys: 1 })

export const misspelt = {
  netsan: {
    // @ts-expect-error: 'bodys' is not an option of netsan
    bodys: 1,
  } satisfies NetsanOptions,
}
