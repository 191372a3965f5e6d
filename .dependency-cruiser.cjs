/**
 * The import rules `npm run imports` checks before the tests (packages/local/src/cli/imports.ts
 * runs this and adds the one rule dependency-cruiser cannot state: no two areas of
 * packages/core/src, folders or files at its root, import each other).
 *
 * dependency-cruiser rather than eslint with import-x/no-cycle: the project has no eslint to hang
 * a plugin on; it counts type-only imports as structure (tsPreCompilationDeps); it resolves the
 * workspaces through their package exports; "who may import what" and "what may reach what" are
 * rules of their own (path and reachable), not only cycles; and it reads the whole tree in about
 * two seconds.
 */
const CORE = "^packages/core/src/";

module.exports = {
  forbidden: [
    {
      name: "no-circle",
      comment: "No import circle, type-only imports included: they are structure too.",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    {
      name: "core-below-tools",
      comment: "packages/core is what the tools run; the offline runtime, the bench and the console sit above it.",
      severity: "error",
      from: { path: "^packages/core/" },
      to: { path: "^packages/(local|bench|console)/" },
    },
    {
      name: "http-only-from-above",
      comment:
        "The HTTP stack sits above the domain: only what serves requests (functions/ handlers, the console's function, " +
        "the offline runtime), the bench and tests import packages/core/src/http/. Domain code and infra never do.",
      severity: "error",
      from: { path: [`${CORE}`, "^infra/", "^sst\\.config\\.ts$"], pathNot: `${CORE}http/` },
      to: { path: `${CORE}http/` },
    },
    {
      name: "audit-verification-without-aws-sdk",
      comment: "Audit verification runs anywhere a log can be checked (a browser, a laptop): nothing it reaches loads the AWS SDK.",
      severity: "error",
      // The verifier's side: the verifier, its anchors and signatures, the pure tree, the entry formats
      // (proofs.ts serves proofs from the table and is not among them).
      from: { path: `${CORE}audit/(verify|anchors|tree-heads|entry|merkle/[^/]+)\\.ts$` },
      to: { path: "(^|/)node_modules/(@aws-sdk|@smithy)/", reachable: true },
    },
  ],
  options: {
    doNotFollow: { path: "(^|/)node_modules/" },
    exclude: { path: "(^|/)\\.sst/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "default"],
      extensions: [".ts", ".tsx", ".mjs", ".js"],
    },
  },
};
