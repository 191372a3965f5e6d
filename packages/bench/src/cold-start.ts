import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import { handlerFile, routes } from "@bulkhead/core/routes";
import { REPO_ROOT } from "@bulkhead/local/runtime";
import { deployedBuildOptions } from "../../../infra/bundling.ts";
import { round, summarize } from "./stats.ts";

const RUNS = 11;

/**
 * Bundled as deployed (see infra/bundling.ts), so an adapter imported dynamically is a chunk
 * loaded only when used. `bytes` is what module initialisation loads: the entry and the chunks
 * it imports statically.
 */
async function bundle(entry: string, outdir: string) {
  const result = await build({
    ...(await deployedBuildOptions(REPO_ROOT)),
    entryPoints: [entry],
    nodePaths: [join(REPO_ROOT, "node_modules")],
    outdir,
    metafile: true,
    logLevel: "silent",
  });
  const outputs = result.metafile.outputs;
  // Dynamically imported modules are entry points of their own in the metafile: match ours by path.
  const entryFile = Object.keys(outputs).find((file) => {
    const point = outputs[file]!.entryPoint;
    return point !== undefined && resolve(point) === resolve(entry);
  })!;
  const loaded = new Set<string>();
  const visit = (file: string) => {
    if (loaded.has(file)) return;
    loaded.add(file);
    for (const imported of outputs[file]!.imports) if (imported.kind === "import-statement" && outputs[imported.path]) visit(imported.path);
  };
  visit(entryFile);
  const sum = (files: Iterable<string>) => [...files].reduce((total, file) => total + statSync(file).size, 0);
  return {
    file: resolve(entryFile),
    bytes: sum(loaded),
    totalBytes: sum(Object.keys(outputs)),
    inputs: [...loaded].flatMap((file) => Object.entries(outputs[file]!.inputs)),
  };
}

/** Module initialisation in a fresh process, in milliseconds. */
function initTime(file: string): number {
  const code = `const t=performance.now();await import(${JSON.stringify(pathToFileURL(file).href)});console.log(performance.now()-t)`;
  const run = spawnSync(process.execPath, ["--input-type=module", "-e", code], { encoding: "utf8", env: { PATH: process.env.PATH } });
  if (run.status !== 0) throw new Error(`init of ${file} failed: ${run.stderr.slice(-2000)}`);
  return Number(run.stdout.trim());
}

type Inputs = [string, { bytesInOutput: number }][];

function largestInputs(inputs: Inputs, count = 8) {
  return inputs
    .map(([path, info]) => ({ path: path.replace(/^.*node_modules\//, ""), bytes: info.bytesInOutput }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, count);
}

/** The AWS SDK clients a bundle contains, by package (document client included). */
function sdkClients(inputs: Inputs): string[] {
  const packages = new Set<string>();
  for (const [path] of inputs) {
    const match = /node_modules\/(@aws-sdk\/(?:client-[a-z0-9-]+|lib-dynamodb))\//.exec(path);
    if (match) packages.add(match[1]!);
  }
  return [...packages].sort();
}

/** A bare handler that constructs one client of each package, and nothing else. */
async function floorSource(packages: string[]): Promise<string> {
  const lines: string[] = [];
  const uses: string[] = [];
  for (const [i, pkg] of packages.entries()) {
    if (pkg === "@aws-sdk/lib-dynamodb") {
      lines.push(`import { DynamoDBDocumentClient as D${i} } from "${pkg}";`);
      uses.push(`D${i}.name`);
      continue;
    }
    const exports = Object.keys(await import(pkg));
    const client = exports.find((name) => /^[A-Z][A-Za-z0-9]*Client$/.test(name) && !name.endsWith("ServiceClient"))!;
    lines.push(`import { ${client} as C${i} } from "${pkg}";`);
    uses.push(`new C${i}({})`);
  }
  lines.push(`const clients = [${uses.join(", ")}];`);
  lines.push("export const handler = async () => ({ statusCode: 200, body: String(clients.length) });");
  return lines.join("\n");
}

/**
 * Bench 2: every function as deployed, beside a bare handler importing the same AWS SDK clients
 * as that function. Init times are measured in alternating fresh processes (floor, function, …)
 * so a busy machine slows both alike.
 */
export async function coldStart() {
  const dir = mkdtempSync(join(tmpdir(), "bulkhead-bundles-"));
  mkdirSync(dir, { recursive: true });
  const floors = new Map<string, { file: string; bytes: number }>();
  const floorFor = async (packages: string[]) => {
    const key = packages.join(",");
    let floor = floors.get(key);
    if (!floor) {
      const entry = join(dir, `floor-${floors.size}.ts`);
      writeFileSync(entry, await floorSource(packages));
      const built = await bundle(entry, join(dir, `floor-${floors.size}`));
      floor = { file: built.file, bytes: built.bytes };
      floors.set(key, floor);
    }
    return floor;
  };

  const functions = [];
  let biggest: { id: string; inputs: Inputs; bytes: number } | undefined;
  for (const route of routes) {
    const { file: outfile, bytes, totalBytes, inputs } = await bundle(join(REPO_ROOT, handlerFile(route)), join(dir, route.id));
    const clients = sdkClients(inputs);
    const floor = await floorFor(clients);
    const own: number[] = [];
    const bare: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      bare.push(initTime(floor.file));
      own.push(initTime(outfile));
    }
    const init = summarize(own).median;
    const floorInit = summarize(bare).median;
    functions.push({
      id: route.id, clients, bytes, totalBytes, floorBytes: floor.bytes, initMs: round(init), floorInitMs: round(floorInit),
      bytesVsFloor: round(bytes / floor.bytes), initVsFloor: round(init / floorInit),
    });
    if (!biggest || bytes > biggest.bytes) biggest = { id: route.id, inputs, bytes };
  }
  return {
    functions,
    worst: {
      bytesVsFloor: Math.max(...functions.map((f) => f.bytesVsFloor)),
      initVsFloor: Math.max(...functions.map((f) => f.initVsFloor)),
    },
    goals: { bytesVsFloor: 1.3, initVsFloor: 1.3 },
    biggest: { id: biggest!.id, largestInputs: largestInputs(biggest!.inputs) },
  };
}
