import { build } from "esbuild";

/**
 * What a handler's bundle holds: bundle it as its function would be (ESM, tree-shaken), collect
 * every `Resource.<Name>` left in the output (the SST links its code can reach) and every package
 * it imports. Packages are left external, except the workspace's own, so only the repository's
 * code is read.
 */
export async function handlerBundle(entry: string): Promise<{ links: string[]; packages: string[] }> {
  const packages = new Set<string>();
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: "esm",
    platform: "node",
    target: "node24",
    minify: false,
    logLevel: "silent",
    plugins: [{
      name: "only-workspace-code",
      setup(builder) {
        builder.onResolve({ filter: /^[^./]/ }, (args) => {
          if (args.path.startsWith("@bulkhead/")) return undefined;
          packages.add(args.path.split("/").slice(0, args.path.startsWith("@") ? 2 : 1).join("/"));
          return { path: args.path, external: true };
        });
      },
    }],
  });
  const code = result.outputFiles[0]!.text;
  if (code.includes("SST_RESOURCE_")) throw new Error(`${entry} reads SST_RESOURCE_* directly; read links through Resource`);
  const links = [...new Set([...code.matchAll(/\bResource\d*\.([A-Za-z_]\w*)/g)].map((match) => match[1]!))].sort();
  return { links, packages: [...packages].sort() };
}
