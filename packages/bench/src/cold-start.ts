import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { build, type Metafile } from "esbuild";
import { handlerFile, routes } from "@bulkhead/core/routes";
import { REPO_ROOT } from "@bulkhead/local/runtime";
import { round, summarize } from "./stats.ts";

const RUNS = 11;

/** Bundled as deployed: one ESM file per function, minified and tree-shaken, SDK included. */
async function bundle(entry: string, outfile: string) {
  const result = await build({
    nodePaths: [join(REPO_ROOT, "node_modules")],
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node24",
    minify: true,
    treeShaking: true,
    metafile: true,
    logLevel: "silent",
    mainFields: ["module", "main"],
    banner: { js: "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);" },
  });
  return { bytes: statSync(outfile).size, metafile: result.metafile };
}

/** Module initialisation in a fresh process, in milliseconds. */
function initTimes(file: string): number[] {
  const code = `const t=performance.now();await import(${JSON.stringify(pathToFileURL(file).href)});console.log(performance.now()-t)`;
  return Array.from({ length: RUNS }, () => {
    const run = spawnSync(process.execPath, ["--input-type=module", "-e", code], { encoding: "utf8", env: { PATH: process.env.PATH } });
    if (run.status !== 0) throw new Error(`init of ${file} failed: ${run.stderr.slice(-2000)}`);
    return Number(run.stdout.trim());
  });
}

function largestInputs(metafile: Metafile, count = 8) {
  const output = Object.values(metafile.outputs)[0]!;
  return Object.entries(output.inputs)
    .map(([path, info]) => ({ path: path.replace(/^.*node_modules\//, ""), bytes: info.bytesInOutput }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, count);
}

/**
 * Bench 2: every function as deployed, against a bare handler importing the same SDK clients.
 */
export async function coldStart() {
  const dir = mkdtempSync(join(tmpdir(), "bulkhead-bundles-"));
  mkdirSync(dir, { recursive: true });
  const floorEntry = join(dir, "floor.ts");
  writeFileSync(floorEntry, [
    'import { DynamoDBClient } from "@aws-sdk/client-dynamodb";',
    'import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";',
    'import { STSClient } from "@aws-sdk/client-sts";',
    "const client = DynamoDBDocumentClient.from(new DynamoDBClient({}));",
    "export const handler = async () => ({ statusCode: 200, body: String(Boolean(client && new STSClient({}))) });",
  ].join("\n"));
  const floorOut = join(dir, "floor.mjs");
  const floor = await bundle(floorEntry, floorOut);
  const floorInit = summarize(initTimes(floorOut));

  const functions = [];
  let biggest: { id: string; metafile: Metafile; bytes: number } | undefined;
  for (const route of routes) {
    const outfile = join(dir, `${route.id}.mjs`);
    const { bytes, metafile } = await bundle(join(REPO_ROOT, handlerFile(route)), outfile);
    const init = summarize(initTimes(outfile));
    functions.push({
      id: route.id, bytes, initMs: round(init.median),
      bytesVsFloor: round(bytes / floor.bytes), initVsFloor: round(init.median / floorInit.median),
    });
    if (!biggest || bytes > biggest.bytes) biggest = { id: route.id, metafile, bytes };
  }
  return {
    floor: { bytes: floor.bytes, initMs: round(floorInit.median) },
    functions,
    worst: {
      bytesVsFloor: Math.max(...functions.map((f) => f.bytesVsFloor)),
      initVsFloor: Math.max(...functions.map((f) => f.initVsFloor)),
    },
    goals: { bytesVsFloor: 1.3, initVsFloor: 1.3 },
    biggest: { id: biggest!.id, largestInputs: largestInputs(biggest!.metafile) },
  };
}
