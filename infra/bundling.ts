import type { BuildOptions } from "esbuild";

/**
 * How every function is bundled (SST's `nodejs` options). The cold-start bench and the bundling
 * test build with the same settings through `deployedBuildOptions`, so they measure what deploys.
 */
export const NODEJS_BUNDLING = {
  format: "esm",
  minify: true,
  // A dynamically imported module becomes a chunk loaded on first use, not at init.
  splitting: true,
  /** Relative to the project root, where SST runs; see the file for why. */
  plugins: "infra/esbuild-plugins.mjs",
} as const;

/** The banner SST puts on every ESM output file: it defines `require` for bundled CommonJS. */
const SST_ESM_BANNER = [
  `import { createRequire as topLevelCreateRequire } from 'module';`,
  "const require = topLevelCreateRequire(import.meta.url);",
  `import { fileURLToPath as topLevelFileUrlToPath, URL as topLevelURL } from "url"`,
  "const __filename = topLevelFileUrlToPath(import.meta.url)",
  `const __dirname = topLevelFileUrlToPath(new topLevelURL(".", import.meta.url))`,
].join("\n");

/**
 * The esbuild options SST's own function build uses (sst/sst pkg/runtime/node/build.go: ESM,
 * target esnext, keepNames, its banner, minified when deployed) with NODEJS_BUNDLING applied.
 */
export async function deployedBuildOptions(projectRoot: string): Promise<BuildOptions> {
  const pluginsFile = new URL(NODEJS_BUNDLING.plugins, `file://${projectRoot.replace(/\/?$/, "/")}`);
  return {
    platform: "node",
    format: NODEJS_BUNDLING.format,
    target: "esnext",
    keepNames: true,
    bundle: true,
    splitting: NODEJS_BUNDLING.splitting,
    outExtension: { ".js": ".mjs" },
    minify: NODEJS_BUNDLING.minify,
    mainFields: ["module", "main"],
    banner: { js: SST_ESM_BANNER },
    plugins: (await import(pluginsFile.href)).default,
  };
}
