import { spawnSync } from "node:child_process";
import type { ICruiseResult, IViolation } from "dependency-cruiser";

/**
 * `npm run imports`: the rules of .dependency-cruiser.cjs, plus the one dependency-cruiser cannot
 * state: no two areas of packages/core/src import each other. An area is a folder, or one file at
 * src's root. One cruise (its JSON) serves both; exits 1 when any rule is broken.
 */
const ROOTS = ["packages", "functions", "infra", "test", "sst.config.ts"];
const CORE = "packages/core/src/";

function areaOf(path: string): string | undefined {
  if (!path.startsWith(CORE)) return undefined;
  const rest = path.slice(CORE.length);
  const slash = rest.indexOf("/");
  return slash >= 0 ? rest.slice(0, slash + 1) : rest;
}

/** Each pair of areas that import each other, with the imports that tie them. */
function twoWayAreas(result: ICruiseResult): string[] {
  const imports = new Map<string, string[]>();
  for (const module of result.modules) {
    const from = areaOf(module.source);
    for (const dependency of module.dependencies) {
      const to = areaOf(dependency.resolved);
      if (!from || !to || from === to) continue;
      const key = `${from} -> ${to}`;
      imports.set(key, [...(imports.get(key) ?? []), `${module.source} → ${dependency.resolved}`]);
    }
  }
  const found: string[] = [];
  for (const [key, ties] of imports) {
    const [from, to] = key.split(" -> ") as [string, string];
    const back = imports.get(`${to} -> ${from}`);
    if (from < to && back) found.push(`error two-way-areas: ${from} ⇄ ${to}\n${[...ties, ...back].map((tie) => `    ${tie}`).join("\n")}`);
  }
  return found;
}

function describe(violation: IViolation): string {
  const line = `error ${violation.rule.name}: ${violation.from} → ${violation.to}`;
  const path = violation.cycle ?? violation.via;
  return path ? `${line}\n    via ${path.map((step) => step.name).join(" → ")}` : line;
}

const cruise = spawnSync("depcruise", [...ROOTS, "--config", ".dependency-cruiser.cjs", "--output-type", "json"], { encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
if (cruise.status !== 0) {
  console.error(cruise.stderr || cruise.error);
  process.exit(1);
}
const result = JSON.parse(cruise.stdout) as ICruiseResult;
const broken = [...result.summary.violations.filter((violation) => violation.rule.severity === "error").map(describe), ...twoWayAreas(result)];
if (broken.length > 0) {
  console.error(`${broken.join("\n")}\n\nimports: ${broken.length} broken rule(s)`);
  process.exit(1);
}
console.log(`imports: ${result.summary.totalCruised} modules, ${result.summary.totalDependenciesCruised} dependencies, no rule broken`);
