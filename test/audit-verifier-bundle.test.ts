import { join } from "node:path";
import { build } from "esbuild";
import { expect, it } from "vitest";

/**
 * The offline verifier needs no AWS: bundled on its own, it must not pull in the AWS SDK (the
 * verification side of audit/ imports nothing of the writer's or the table's).
 */
const ROOT = join(import.meta.dirname, "..");

it("bundles the offline audit verifier without any AWS SDK module", async () => {
  const { metafile } = await build({
    entryPoints: [join(ROOT, "packages/local/src/cli/audit-verify.ts")],
    absWorkingDir: ROOT,
    bundle: true,
    platform: "node",
    format: "esm",
    write: false,
    metafile: true,
    logLevel: "silent",
  });
  const inputs = Object.keys(metafile.inputs);
  expect(inputs).toContain("packages/core/src/audit/verify.ts");
  expect(inputs.filter((input) => /(^|\/)node_modules\/@(aws-sdk|smithy)\//.test(input))).toEqual([]);
});
