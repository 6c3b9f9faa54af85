/** Import rules checked by `npm run check:deps` (dependency-cruiser), part of `npm test`.
 *  The direction is: test may import anything; bench may import the product (functions, lib, local)
 *  but not test; functions/, lib/, local/ and cli/ import neither test/ nor bench/. No cycles anywhere. */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycle',
      severity: 'error',
      comment: 'An import cycle forces two-phase set-up and makes load order matter; break it by passing the dependency in.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'product-not-to-test-or-bench',
      severity: 'error',
      comment: 'The product (functions, lib, local, cli) must not depend on its tests or benchmarks.',
      from: { path: '^(functions|lib|local|cli)/' },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'bench-not-to-test',
      severity: 'error',
      comment: 'Benchmarks run without jest; what they share with tests lives in the product or in bench/.',
      from: { path: '^bench/' },
      to: { path: '^test/' },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that does not resolve is a typo or a missing dependency.',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|cdk\\.out)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
