import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { uploadSource } from "../deploy/run.ts";
import { parseApiArgs, UsageError } from "../deploy/target.ts";

/**
 * Uploads a source version through the API, as any client would: `--dir DIR` zips a directory
 * (respecting .gitignore); without it, a one-page sample site. Prints the ref.
 */
const USAGE = "usage: npm run source -- --org <org> --app <app id> --ref <ref> [--dir <directory>] [--token <token>] [--url <API base URL>]";

try {
  const parsed = parseApiArgs(process.argv.slice(2), { ref: { type: "string" }, dir: { type: "string" } });
  if (parsed.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const { ref, dir } = parsed.values as Record<string, string | undefined>;
  if (!ref) throw new UsageError("--ref <source ref> is required (e.g. v1)");
  const sample = dir ? undefined : mkdtempSync(join(tmpdir(), "bulkhead-sample-"));
  if (sample) writeFileSync(join(sample, "index.html"), `<!doctype html>\n<h1>${parsed.appId} at ${ref}</h1>\n`);
  try {
    await uploadSource({ api: parsed.api, appId: parsed.appId, dir: dir ?? sample!, ref }, { out: process.stderr, err: process.stderr, isTTY: Boolean(process.stderr.isTTY) });
  } finally {
    if (sample) rmSync(sample, { recursive: true, force: true });
  }
  console.log(ref);
  process.exit(0);
} catch (error) {
  console.error(`source: ${(error as Error).message}${error instanceof UsageError ? `\n${USAGE}` : ""}`);
  process.exit(error instanceof UsageError ? 2 : 1);
}
