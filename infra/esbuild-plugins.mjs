// esbuild plugins for every function bundle: SST loads this file by path (`nodejs.plugins`), and
// the cold-start bench bundles with it too. Plain ESM JavaScript, because SST imports it with
// whatever `node` runs the CLI.
import { createRequire, isBuiltin } from "node:module";

const require = createRequire(import.meta.url);
const NAMESPACE = "builtin-via-require";

/**
 * Node built-ins imported by ESM code, loaded with `require` instead.
 *
 * An ESM `import` of a built-in makes Node build the module's ESM facade, which reads every
 * export, and some exports are lazy getters. On Node 24 the facade of `node:http` loads undici
 * (its WebSocket and fetch classes): about 15 ms of every cold start, paid by any bundle with
 * middy, whose util imports `STATUS_CODES` from it. `require` returns the same object without a
 * facade. Each import becomes a small ESM module that reads only the names the bundle uses,
 * when the importer would have read them; the banner SST adds to ESM bundles defines `require`.
 *
 * @type {import("esbuild").Plugin}
 */
export const builtinsViaRequire = {
  name: NAMESPACE,
  setup(build) {
    build.onResolve({ filter: /^[a-z_:/]+$/ }, (args) => {
      if (args.kind !== "import-statement" || !isBuiltin(args.path)) return undefined;
      return { path: args.path.startsWith("node:") ? args.path : `node:${args.path}`, namespace: NAMESPACE };
    });
    build.onLoad({ filter: /.*/, namespace: NAMESPACE }, (args) => {
      const names = Object.keys(require(args.path)).filter((name) => /^[A-Za-z_$][\w$]*$/.test(name) && name !== "default");
      if (names.some((name) => name.startsWith("$builtin"))) throw new Error(`${args.path} exports a name this plugin uses`);
      return {
        loader: "js",
        contents: [
          `const $builtin = require(${JSON.stringify(args.path)});`,
          "const $builtinRead = (name) => $builtin[name];",
          "export default $builtin;",
          // Pure, so esbuild drops every export the bundle does not import.
          ...names.map((name) => `export const ${name} = /* @__PURE__ */ $builtinRead(${JSON.stringify(name)});`),
        ].join("\n"),
      };
    });
  },
};

export default [builtinsViaRequire];
