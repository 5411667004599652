// CommonJS tests compiled by ts-jest, which type-checks them against netsan's CommonJS declarations.
const { defineNetsanOptions } = require('jest-environment-netsan')

module.exports = {
  testEnvironment: 'netsan',
  roots: ['<rootDir>/test-jest-cjs'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.jest.json' }] },
  testEnvironmentOptions: { netsan: defineNetsanOptions({ settleMs: 50 }) },
}
