import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { startDynamoLocal, type LocalDynamo } from "@bulkhead/local/dynamodb";
import { REPO_ROOT } from "@bulkhead/local/runtime";
import { SHARED_DYNAMODB_ENV } from "./offline.ts";
import { round } from "./stats.ts";

/**
 * `npm run bench`: each bench in a fresh process (config and caches are per process, like a
 * Lambda instance), figures printed and written to bench/results.json. Ratios, not absolute
 * times, are the results: the machine is shared and noisy. Each bench that needs DynamoDB gets a
 * DynamoDB Local (in memory) of its own: one left behind by an earlier bench, even with that
 * bench's table deleted, ran the next one many times slower (auditCost: 85 s alone, over 15
 * minutes after endToEnd).
 */
const only = process.argv.slice(2);
const names = ["requestOverhead", "coldStart", "endToEnd", "callsPerOperation", "auditCost", "rotation", "envelope"].filter((n) => only.length === 0 || only.includes(n));
/** The benches that start an offline stack (benchOffline). */
const USE_DYNAMODB = new Set(["endToEnd", "callsPerOperation", "auditCost", "rotation"]);
const resultsFile = join(REPO_ROOT, "bench/results.json");
// A partial run (`npm run bench -- coldStart`) updates its own figures and keeps the others.
const previous = existsSync(resultsFile) ? JSON.parse(readFileSync(resultsFile, "utf8")) : {};
const results: Record<string, unknown> = { ...previous, machine: { node: process.version, cpus: (await import("node:os")).cpus().length, at: new Date().toISOString() } };
// Wall-clock seconds each bench took, process start to exit: the whole run must stay under five minutes on 2 cores.
const seconds: Record<string, number> = { ...previous.seconds };
const run = promisify(execFile);

for (const name of names) {
  let dynamo: LocalDynamo | undefined;
  try {
    process.stderr.write(`bench ${name}…\n`);
    const started = performance.now();
    if (USE_DYNAMODB.has(name)) dynamo = await startDynamoLocal();
    const { stdout } = await run(process.execPath, ["--import", "tsx", join(REPO_ROOT, "packages/bench/src/one.ts"), name], {
      cwd: REPO_ROOT,
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
      env: dynamo ? { ...process.env, [SHARED_DYNAMODB_ENV]: dynamo.endpoint } : process.env,
    }).catch((error: { stdout?: string; stderr?: string }) => {
      throw new Error(`bench ${name} failed:\n${error.stderr || error.stdout || String(error)}`);
    });
    results[name] = JSON.parse(stdout.trim().split("\n").at(-1)!);
    seconds[name] = round((performance.now() - started) / 1000, 1);
    process.stderr.write(`bench ${name}: ${seconds[name]} s\n`);
    console.log(`\n## ${name}\n${JSON.stringify(results[name], null, 2)}`);
  } finally {
    await dynamo?.stop();
  }
}

results.seconds = seconds;
mkdirSync(join(REPO_ROOT, "bench"), { recursive: true });
writeFileSync(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
console.log("\nwrote bench/results.json");
