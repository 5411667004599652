/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'netsan',
  // The network kinds, and the opt-in handle kinds: timers, child processes, watchers, workers, files.
  testEnvironmentOptions: { netsan: { kinds: ['network', 'handles'] } },
  testMatch: ['<rootDir>/test/**/*.test.js'],
  // netsan's closing summary, before Jest's totals.
  reporters: ['default', 'jest-environment-netsan/reporter'],
}
