import { cpSync, existsSync, mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { generatedIdSchema, orgSlugSchema } from "@bulkhead/core/ids";
import { sourceRefSchema } from "@bulkhead/core/deployments/schemas";
import { localObjectStore } from "../standins/object-store.ts";

/**
 * Uploads a source version for an app into the offline object store (the stand-in for the S3
 * folder CodeBuild reads): `--from DIR` copies a directory; without it, a one-page sample site.
 */
const { values } = parseArgs({
  options: { org: { type: "string" }, app: { type: "string" }, ref: { type: "string" }, from: { type: "string" } },
});

function fail(message: string): never {
  console.error(`source: ${message}`);
  process.exit(2);
}

if (!orgSlugSchema().safeParse(values.org).success) fail("--org <org slug> is required");
if (!generatedIdSchema().safeParse(values.app).success) fail("--app <app id> is required");
if (!sourceRefSchema().safeParse(values.ref).success) fail("--ref <source ref> is required (e.g. v1)");

const dataDir = process.env.BULKHEAD_DATA_DIR ?? ".bulkhead";
const folder = localObjectStore(join(dataDir, "objects")).path("bulkhead-artifacts", `${values.org}/${values.app}/sources/${values.ref}/`);
rmSync(folder, { recursive: true, force: true });
mkdirSync(folder, { recursive: true });
if (values.from) {
  if (!existsSync(values.from) || !statSync(values.from).isDirectory()) fail(`--from ${values.from} is not a directory`);
  cpSync(values.from, folder, { recursive: true });
} else {
  writeFileSync(join(folder, "index.html"), `<!doctype html>\n<h1>${values.app} at ${values.ref}</h1>\n`);
}
console.log(folder);
