import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { build, type BuildOptions } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deployedBuildOptions } from "../infra/bundling.ts";
import { CONSOLE_HANDLER_FILE } from "../packages/console/src/settings.ts";
import { handlerFile, routes } from "../packages/core/src/routes/index.ts";
import { taskFile, tasks } from "../packages/core/src/workflows/tasks.ts";

/**
 * Functions bundled as SST deploys them (infra/bundling.ts): every handler builds and loads in a
 * fresh Node process, and no bundle pays for a built-in's ESM facade at init.
 */
const ROOT = join(import.meta.dirname, "..");
let options: BuildOptions;
let dir: string;

beforeAll(async () => {
  options = await deployedBuildOptions(ROOT);
  dir = mkdtempSync(join(tmpdir(), "bulkhead-bundling-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Imports each file in one fresh process; reports per file what it exports, and what Node loaded. */
function load(files: string[], expression = "Object.keys(mod)") {
  const code = `const out = [];
for (const file of ${JSON.stringify(files.map((file) => pathToFileURL(file).href))}) {
  const mod = await import(file);
  out.push(${expression});
}
console.log(JSON.stringify({ out, undici: process.moduleLoadList.some((name) => name.includes("undici")) }));`;
  const run = spawnSync(process.execPath, ["--input-type=module", "-e", code], { encoding: "utf8", env: { PATH: process.env.PATH } });
  if (run.status !== 0) throw new Error(run.stderr.slice(-2000));
  return JSON.parse(run.stdout.trim()) as { out: unknown[]; undici: boolean };
}

async function bundleSource(name: string, source: string, plugins = options.plugins) {
  const entry = join(dir, `${name}.ts`);
  writeFileSync(entry, source);
  await build({ ...options, plugins, entryPoints: [entry], outdir: join(dir, name), logLevel: "silent" });
  return join(dir, name, `${name}.mjs`);
}

describe("built-ins via require", () => {
  const source = `import { STATUS_CODES } from "node:http";
import crypto, { createHash } from "node:crypto";
import * as path from "path";
export const values = [STATUS_CODES[404], createHash("sha256").update("x").digest("hex").slice(0, 8), crypto.randomUUID().length, path.join("a", "b")];`;

  it("keeps what the imports mean, without an ESM import of any built-in", async () => {
    const file = await bundleSource("builtins", source);
    const text = readFileSync(file, "utf8");
    expect(text).not.toMatch(/from\s*"(node:)?(http|crypto|path)"/);
    const { out, undici } = load([file], "mod.values");
    expect(out).toEqual([["Not Found", "2d711642", 36, "a/b"]]);
    expect(undici).toBe(false);
  });

  it("is needed: without it, importing node:http makes Node 24 load undici at init", async () => {
    const file = await bundleSource("facade", source, []);
    expect(load([file], "mod.values[0]")).toEqual({ out: ["Not Found"], undici: true });
  });
});

describe("every function as deployed", () => {
  it("builds, loads in a fresh process and exports its handler, without loading undici", async () => {
    const jobs = readdirSync(join(ROOT, "functions/src/jobs")).map((file) => `functions/src/jobs/${file}`);
    const entries = [...routes.map((route) => handlerFile(route)), ...tasks.map((task) => taskFile(task)), ...jobs, CONSOLE_HANDLER_FILE];
    const outdir = join(dir, "functions");
    await build({ ...options, entryPoints: entries.map((entry) => join(ROOT, entry)), outdir, outbase: ROOT, logLevel: "silent" });
    const files = entries.map((entry) => join(outdir, entry.replace(/\.ts$/, ".mjs")));
    expect(readdirSync(outdir).length).toBeGreaterThan(0);
    const { out, undici } = load(files, "typeof mod.handler");
    expect(out).toEqual(files.map(() => "function"));
    expect(undici).toBe(false);
  }, 120_000);
});
