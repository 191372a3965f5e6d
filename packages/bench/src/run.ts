import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "@bulkhead/local/runtime";
import { round } from "./stats.ts";

/**
 * `npm run bench`: each bench in a fresh process (config and caches are per process, like a
 * Lambda instance), figures printed and written to bench/results.json. Ratios, not absolute
 * times, are the results: the machine is shared and noisy.
 */
const only = process.argv.slice(2);
const names = ["requestOverhead", "coldStart", "endToEnd", "callsPerOperation", "auditCost", "rotation", "envelope"].filter((n) => only.length === 0 || only.includes(n));
const resultsFile = join(REPO_ROOT, "bench/results.json");
// A partial run (`npm run bench -- coldStart`) updates its own figures and keeps the others.
const previous = existsSync(resultsFile) ? JSON.parse(readFileSync(resultsFile, "utf8")) : {};
const results: Record<string, unknown> = { ...previous, machine: { node: process.version, cpus: (await import("node:os")).cpus().length, at: new Date().toISOString() } };
// Wall-clock seconds each bench took, process start to exit: the whole run must stay under five minutes on 2 cores.
const seconds: Record<string, number> = { ...previous.seconds };

for (const name of names) {
  process.stderr.write(`bench ${name}…\n`);
  const started = performance.now();
  const run = spawnSync(process.execPath, ["--import", "tsx", join(REPO_ROOT, "packages/bench/src/one.ts"), name], {
    cwd: REPO_ROOT, encoding: "utf8", maxBuffer: 64 * 1024 * 1024,
  });
  if (run.status !== 0) {
    console.error(run.stderr || run.stdout);
    process.exit(1);
  }
  results[name] = JSON.parse(run.stdout.trim().split("\n").at(-1)!);
  seconds[name] = round((performance.now() - started) / 1000, 1);
  process.stderr.write(`bench ${name}: ${seconds[name]} s\n`);
  console.log(`\n## ${name}\n${JSON.stringify(results[name], null, 2)}`);
}

results.seconds = seconds;
mkdirSync(join(REPO_ROOT, "bench"), { recursive: true });
writeFileSync(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
console.log("\nwrote bench/results.json");
