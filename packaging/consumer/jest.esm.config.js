// Native ESM tests: node --experimental-vm-modules node_modules/jest/bin/jest.js -c jest.esm.config.js
const { defineNetsanOptions } = require('netsan')

module.exports = {
  testEnvironment: 'netsan',
  roots: ['<rootDir>/test-jest-esm'],
  testMatch: ['**/*.test.mjs'],
  transform: {},
  testEnvironmentOptions: { netsan: defineNetsanOptions({ settleMs: 50 }) },
}
