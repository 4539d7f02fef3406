/** Node suites run with ts-jest (transpile only; `npm run typecheck` checks types). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {'^.+\\.ts$': ['ts-jest', {tsconfig: 'tsconfig.test.json'}]},
  // Assembles the wasm GEMM into src/ first (git-ignored output), so `npx jest FILE` works
  // on a fresh clone; the package test also needs `npm run build`, which `npm test` runs.
  globalSetup: '<rootDir>/scripts/build_wasm.js',
  setupFiles: ['<rootDir>/test/setup.ts'],
  testTimeout: 120000,
};
