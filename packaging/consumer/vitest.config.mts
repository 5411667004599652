/// <reference types="vitest-environment-netsan" />
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    environment: 'netsan',
    include: ['test-vitest/**/*.test.ts'],
    environmentOptions: {
      // Typed by vitest-environment-netsan's augmentation of Vitest's EnvironmentOptions.
      netsan: { settleMs: 50, bodies: 'app' },
    },
  },
})
