/** Jest runs the TypeScript sources through swc (fast, no type check: `npm run typecheck` does that).
 *  middy, fauxqs and commander (the CLI's) ship ESM only, so they are transformed too. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.(t|j|mj)s$': ['@swc/jest', { jsc: { target: 'es2023', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!(@middy|fauxqs|commander)/)'],
  // Their package.json `exports` offer only an `import` condition, which jest's CommonJS resolver skips.
  moduleNameMapper: {
    '^fauxqs$': '<rootDir>/node_modules/fauxqs/dist/app.js',
    '^@middy/(core|util)$': '<rootDir>/node_modules/@middy/$1/index.js',
  },
  testTimeout: 60000,
};
