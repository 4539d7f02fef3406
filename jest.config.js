/** Node suites run with ts-jest (transpile only; `npm run typecheck` checks types). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {'^.+\\.ts$': ['ts-jest', {tsconfig: 'tsconfig.test.json'}]},
  setupFiles: ['<rootDir>/test/setup.ts'],
  testTimeout: 120000,
};
