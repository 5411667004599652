/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'netsan',
  testMatch: ['<rootDir>/test/**/*.test.js'],
}
