// vitest.config.mts references vitest-environment-netsan's types: environmentOptions.netsan is NetsanOptions.
import { defineConfig } from 'vitest/config'

export const misspelt = defineConfig({
  test: {
    environment: 'netsan',
    environmentOptions: {
      netsan: {
        // @ts-expect-error: 'bodys' is not an option of netsan
        bodys: 1,
      },
    },
  },
})

export const wrongValue = defineConfig({
  test: {
    environmentOptions: {
      netsan: {
        // @ts-expect-error: 'sometimes' is not a mode
        mode: 'sometimes',
      },
    },
  },
})
