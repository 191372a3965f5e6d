/**
 * `npx tsx packages/bench/src/kill-restart.ts [ms]`: kills `npm start` (SIGKILL, its whole process
 * group) `ms` after 16 clients started creating targets and apps, starts it again on the same
 * data, and compares what exists with the audit log: each target and app with exactly one `ok`
 * record of its creation, and no record of one that does not exist. Exits 1 otherwise. Not part of
 * `npm test`: two starts of the offline stack under load take a minute on 2 cores.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gatewayClient } from "@bulkhead/local/client";
import { loadDevIssuer } from "@bulkhead/local/issuer";
import { REPO_ROOT } from "@bulkhead/local/runtime";

const repo = process.env.REPO ?? REPO_ROOT;
const dataDir = mkdtempSync(join(tmpdir(), "bulkhead-kill-"));
const port = 4610 + Math.floor(Math.random() * 100);
const env = { ...process.env, BULKHEAD_DATA_DIR: dataDir, PORT: String(port), ROTATION_INTERVAL_SECONDS: "0", SWEEP_INTERVAL_SECONDS: "0" };

function start(): Promise<ChildProcess> {
  const child = spawn("npm", ["start"], { cwd: repo, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  return new Promise((resolve, reject) => {
    let out = "";
    const onData = (d: Buffer) => { out += d; if (out.includes("listening on")) resolve(child); };
    child.stdout.on("data", onData);
    child.stderr.on("data", (d: Buffer) => { out += d; });
    child.on("exit", (code) => reject(new Error(`npm start exited ${code}: ${out.slice(-2000)}`)));
  });
}
// npm start keeps its dev issuer's key in the data directory: the same key mints this run's tokens.
const api = gatewayClient(port, loadDevIssuer(dataDir));
const token = api.tokens.member("acme", "admin", "alice");
const call = (method: string, path: string, body?: object) => api.call(api.orgHost("acme"), method, path, { token, body });
async function pages(path: string): Promise<any[]> {
  const items: any[] = [];
  let cursor: string | undefined;
  do {
    const sep = path.includes("?") ? "&" : "?";
    const { status, json } = await call("GET", `${path}${sep}limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    if (status !== 200) throw new Error(`${path}: ${status} ${JSON.stringify(json)}`);
    items.push(...json.items);
    cursor = json.cursor;
  } while (cursor);
  return items;
}

const killAfterMs = Number(process.argv[2] ?? 4000);
let server = await start();
// Room for the load: the org's limits raised on the platform host.
const limits = await api.call(api.platformHost, "PATCH", "/v1/orgs/acme", {
  token: api.tokens.platform(), body: { limits: { apps: 10000, requestsPerSecond: 10000, principalRequestsPerSecond: 10000 } },
});
if (limits.status !== 200) throw new Error(`limits: ${limits.status} ${JSON.stringify(limits.json)}`);
let sent = 0, answered = 0, stop = false;
const worker = async (i: number) => {
  for (let n = 0; !stop; n++) {
    sent++;
    const path = n % 2 ? "/v1/apps" : "/v1/targets";
    const body = n % 2 ? { name: `kill-${i}-${n}` } : { name: `kill-${i}-${n}`, kind: "hosted" };
    try { await call("POST", path, body); answered++; } catch { return; }
  }
};
const workers = Array.from({ length: 16 }, (_, i) => worker(i));
await new Promise((resolve) => setTimeout(resolve, killAfterMs));
process.kill(-server.pid!, "SIGKILL");
stop = true;
await Promise.allSettled(workers);
console.log(`killed after ${killAfterMs} ms: ${sent} requests sent, ${answered} answered`);
await new Promise((resolve) => setTimeout(resolve, 1000));

server = await start();
for (let i = 0; ; i++) {
  const { json } = await call("GET", "/v1/audit?limit=1");
  if (json?.pending === 0) break;
  if (i > 600) throw new Error(`records still pending: ${json?.pending}`);
  await new Promise((resolve) => setTimeout(resolve, 100));
}
const targets = new Set((await pages("/v1/targets")).map((t) => t.id).filter((id) => id !== "hosted"));
const apps = new Set((await pages("/v1/apps")).map((a) => a.id));
const report = (label: string, existing: Set<string>, action: string, idField: string) => pages(`/v1/audit?action=${action}`).then((entries) => {
  const ok = entries.filter((e) => e.outcome.result === "ok");
  const count = new Map<string, number>();
  for (const e of ok) count.set(e.target[idField], (count.get(e.target[idField]) ?? 0) + 1);
  const withoutRecord = [...existing].filter((id) => !count.has(id));
  const twice = [...count].filter(([, n]) => n > 1);
  const recordWithoutChange = [...count.keys()].filter((id) => !existing.has(id));
  console.log(`${label}: ${existing.size} exist, ${ok.length} ok records (${entries.length - ok.length} others); without a record ${withoutRecord.length}, recorded twice ${twice.length}, record without the change ${recordWithoutChange.length}`);
  return withoutRecord.length + twice.length + recordWithoutChange.length;
});
const problems = (await report("targets", targets, "targets.create", "targetId")) + (await report("apps", apps, "apps.create", "appId"));
const verify = await call("GET", "/v1/audit/verify");
console.log(`verify: ${JSON.stringify(verify.json)}`);
// The stack on the throwaway data is stopped as the first one was (npm start holds on to a SIGTERM's children).
process.kill(-server.pid!, "SIGKILL");
rmSync(dataDir, { recursive: true, force: true });
process.exit(problems === 0 && verify.json?.ok ? 0 : 1);
