/** Jest runs the TypeScript sources through swc (fast, no type check: `npm run typecheck` does that).
 *  middy, fauxqs and commander (the CLI's) ship ESM only, so they are transformed too.
 *
 *  One project per kind of test, so a change can be checked in the loop that fits it:
 *    unit         pure transforms and core, no servers, no child processes (`npm run test:unit`, ~12 s)
 *    integration  handlers through the local runner's embedded queue, stub servers, `npm start` itself
 *    infra        the CDK stack: templates, cdk-nag, bundles
 *    cli          `npx bridge`: its commands against stubs, AWS SDK mocks and a local runner
 *    browser      the console in Chromium (skipped, saying so, where there is none)
 *  `jest` with no `--selectProjects` runs them all (`npm test`, `.ci/run`'s JSON report included). */
const shared = {
  testEnvironment: 'node',
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

const project = (name) => ({ ...shared, displayName: name, roots: [`<rootDir>/test/${name}`] });

module.exports = {
  projects: ['unit', 'integration', 'infra', 'cli', 'browser'].map(project),
  testTimeout: 60000,
};
