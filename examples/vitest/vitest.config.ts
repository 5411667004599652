import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'netsan',
    // The network kinds, and the opt-in handle kinds: timers, child processes, watchers, workers, files.
    environmentOptions: { netsan: { kinds: ['network', 'handles'] } },
    // netsan's closing summary, after Vitest's totals.
    reporters: ['default', 'vitest-environment-netsan/reporter'],
  },
})
