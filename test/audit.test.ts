import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DeleteCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp, deleteApp } from "../packages/core/src/apps/index.ts";
import { appendAudit, auditedStep, pendingAudit } from "../packages/core/src/audit/chain.ts";
import { keys } from "../packages/core/src/data/keys.ts";
import { tenantTable } from "../packages/core/src/data/tables.ts";
import { toProblem } from "../packages/core/src/http/problem-response.ts";
import { REPO_ROOT } from "../packages/local/src/runtime.ts";
import { startTestApi, type CallOptions, type TestApi } from "./support/api.ts";
import { commandsSent } from "./support/commands.ts";
import { auditSettled } from "./support/samples.ts";
import { mth, path as referencePath, proof as referenceProof } from "./support/rfc6962-reference.ts";
import { canonicalJson } from "../packages/core/src/audit/entry.ts";
import { keyStore } from "../packages/core/src/key-stores/select-key-store.ts";

let api: TestApi;
/** Every token this file sends: none may ever appear in the table. */
const tokensUsed = new Set<string>();
beforeAll(async () => (api = await startTestApi()));
afterAll(() => api?.stop());

const remember = (token: string) => (tokensUsed.add(token), token);
const member = (org: string, role: "viewer" | "developer" | "admin" | "owner", sub?: string) => remember(api.tokens.member(org, role, sub));
const platform = (role: "operator" | "platform-admin" = "platform-admin") => remember(api.tokens.platform(role));
const onOrg = (org: string, method: string, path: string, options: CallOptions = {}) => api.call(api.orgHost(org), method, path, options);

let orgCounter = 0;
/** A fresh org (its chain starts with the platform's orgs.create entry at seq 1). */
async function newOrg(prefix: string): Promise<string> {
  const slug = `${prefix}-${++orgCounter}`;
  const reply = await api.call(api.platformHost, "POST", "/v1/orgs", { token: platform(), body: { slug, name: slug } });
  expect(reply.status, reply.text).toBe(201);
  return slug;
}

/** The org's log as stored, in seq order, once every record committed so far is sequenced. */
async function storedChain(org: string, options: { settle?: boolean } = {}): Promise<Record<string, any>[]> {
  if (options.settle !== false) await recordsSequenced(org);
  return (await api.partition(`ORG#${org}#AUDIT`)).filter((item) => String(item.SK).startsWith("SEQ#"));
}
/** Waits until the org has no record waiting (read from the table: it also works for a suspended org). */
async function recordsSequenced(org: string) {
  for (let tries = 0; (await api.partition(`ORG#${org}#AUDIT#PENDING`)).length; tries++) {
    if (tries > 500) throw new Error(`records of ${org} are not being sequenced`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
/** An entry as the API and the export show it: without keys and tree nodes. */
const shown = ({ PK: _pk, SK: _sk, nodes: _nodes, ...entry }: Record<string, any>) => entry;

const verify = async (org: string) => {
  const reply = await onOrg(org, "GET", "/v1/audit/verify", { token: member(org, "admin") });
  expect(reply.status, reply.text).toBe(200);
  return reply.json;
};

async function createApp_(org: string, name: string, role: "developer" | "admin" | "owner" = "developer") {
  const reply = await onOrg(org, "POST", "/v1/apps", { token: member(org, role), body: { name } });
  expect(reply.status, reply.text).toBe(201);
  return reply.json.id as string;
}

describe("writing under concurrency", () => {
  it("50 concurrent appends are each sequenced exactly once: seq contiguous, one valid log", async () => {
    const org = await newOrg("concurrent");
    const table = tenantTable(org);
    const records = await Promise.all(Array.from({ length: 50 }, (_, i) => appendAudit(table, {
      actor: { kind: "system", sub: "load-test" }, action: "test.append", target: { n: String(i) }, outcome: { result: "ok" }, requestId: `r-${i}`,
    })));
    expect(new Set(records.map((r) => r.id)).size).toBe(50);
    const stored = await storedChain(org);
    expect(stored.map((e) => e.seq)).toEqual(Array.from({ length: 51 }, (_, i) => i + 1));
    expect(stored.slice(1).map((e) => e.id).sort()).toEqual(records.map((r) => r.id).sort());
    expect(stored.slice(1).map(shown).sort((a, b) => a.id.localeCompare(b.id))).toEqual(records.map((r) => ({ ...r, seq: expect.any(Number) })).sort((a, b) => a.id.localeCompare(b.id)));
    expect(await verify(org)).toMatchObject({ ok: true, entries: 51, treeSize: 51, pending: 0 });
  });

  it("64 concurrent requests, audited in their own transactions or by the middleware, each leave exactly one entry", async () => {
    const org = await newOrg("concurrent-http");
    const replies = await Promise.all(Array.from({ length: 64 }, (_, i) => i % 4 === 3
      ? onOrg(org, "DELETE", `/v1/apps/${"a".repeat(26)}`, { token: member(org, "viewer") })
      : onOrg(org, "POST", "/v1/apps", { token: member(org, "developer"), body: { name: `app-${i}` } })));
    expect(replies.filter((r) => r.status === 201)).toHaveLength(48);
    expect(replies.filter((r) => r.status === 403)).toHaveLength(16);
    const stored = await storedChain(org);
    expect(stored.map((e) => e.seq)).toEqual(Array.from({ length: 65 }, (_, i) => i + 1));
    // Every committed change has exactly one entry, and every refusal its own.
    const created = replies.filter((r) => r.status === 201).map((r) => r.json.id).sort();
    expect(stored.filter((e) => e.action === "apps.create").map((e) => e.target.appId).sort()).toEqual(created);
    expect(stored.filter((e) => e.action === "apps.delete" && e.outcome.result === "denied").map((e) => e.requestId).sort())
      .toEqual(replies.filter((r) => r.status === 403).map((r) => r.json.requestId).sort());
    const apps = (await api.partition(`ORG#${org}`)).filter((item) => String(item.SK).startsWith("APP#"));
    expect(apps.map((app) => app.id).sort()).toEqual(created);
    expect(await verify(org)).toMatchObject({ ok: true, entries: 65 });
    // Every head the sequencer signed verifies offline against the export.
    const heads = (await onOrg(org, "GET", "/v1/audit/heads?limit=100", { token: member(org, "admin") })).json;
    expect(heads.items[0]).toMatchObject({ org, treeSize: 65 });
    const dir = mkdtempSync(join(tmpdir(), "bulkhead-heads-"));
    writeFileSync(join(dir, "heads.json"), JSON.stringify(heads));
    writeFileSync(join(dir, "key.pem"), heads.publicKey.pem);
    const exported = await onOrg(org, "GET", "/v1/audit/export", { token: member(org, "admin") });
    writeFileSync(join(dir, "audit.jsonl"), exported.text);
    const offline = offlineVerify(join(dir, "audit.jsonl"), "--heads", join(dir, "heads.json"), "--public-key", join(dir, "key.pem"));
    expect(offline.code, offline.out).toBe(0);
    expect(offline.out).toContain(`matches ${heads.items.length} signed tree head(s)`);
  });
});

describe("app changes commit with their entry", () => {
  const base = { actor: { kind: "member" as const, sub: "svc", org: "", role: "admin" }, action: "apps.create", requestId: "req-tx" };

  it("in one TransactWriteItems of the app item, its listing heads and the record, with no read of the log", async () => {
    const org = await newOrg("tx");
    const table = tenantTable(org);
    const sent: { command: string; input: any }[] = [];
    table.client.middlewareStack.add((next, context) => async (args) => {
      sent.push({ command: String(context.commandName), input: args.input });
      return next(args);
    }, { step: "initialize", name: "recordCommands" });
    try {
      const audit = pendingAudit({ ...base, actor: { ...base.actor, org } }, { result: "ok", status: 201 });
      const app = await createApp(table, keyStore(), { name: "atomic" }, audit);
      // The first command is the commit; whatever follows is the sequencer, which shares the handle.
      expect(sent[0]!.command).toBe("TransactWriteItemsCommand");
      const items = sent[0]!.input.TransactItems;
      const heads = keys.appListingHeads(org, app.id);
      expect(heads).toHaveLength(3); // credentials, deployments, sources
      // The app item, its heads, the count in one shard of the org's apps quota, the record.
      expect(items).toHaveLength(3 + heads.length);
      expect(items[0].Put.Item).toMatchObject({ ...keys.app(org, app.id), name: "atomic" });
      expect(items.slice(1, 1 + heads.length).map((item: any) => item.Put)).toEqual(heads.map((key) => ({
        TableName: table.name, Item: { ...key, type: "app-listing-head", appId: app.id }, ConditionExpression: "attribute_not_exists(PK)",
      })));
      expect(items[1 + heads.length].Update.Key).toEqual(keys.quotaShard(`ORG#${org}`, "APPS", items[0].Put.Item.quotaShard));
      const record = audit.record!;
      expect(items[2 + heads.length].Put).toEqual({
        TableName: table.name,
        Item: { ...keys.auditRecord(org, record.id), ...record },
        ConditionExpression: "attribute_not_exists(PK)",
      });
      expect(record).toMatchObject({ v: 2, org, action: "apps.create", target: { appId: app.id } });
      expect(record).not.toHaveProperty("seq");
      expect((await storedChain(org)).at(-1)).toMatchObject({ seq: 2, id: record.id, target: { appId: app.id } });
    } finally {
      table.client.middlewareStack.remove("recordCommands");
    }
  });

  it("or not at all: a transaction that fails writes neither the app nor the entry", async () => {
    const org = await newOrg("tx-fail");
    const table = tenantTable(org);
    // Make the entry item too large for DynamoDB: the whole transaction must be refused.
    table.client.middlewareStack.add((next) => async (args: any) => {
      const last = args.input.TransactItems?.at(-1);
      if (last?.Put) last.Put.Item.padding = "x".repeat(410 * 1024);
      return next(args);
    }, { step: "initialize", name: "oversizeEntry" });
    try {
      const refused = createApp(table, keyStore(), { name: "never" }, pendingAudit({ ...base, actor: { ...base.actor, org } }));
      // DynamoDB itself refuses the transaction (not the SDK or the guard before sending).
      await expect(refused).rejects.toMatchObject({ $metadata: { httpStatusCode: 400 } });
    } finally {
      table.client.middlewareStack.remove("oversizeEntry");
    }
    expect((await api.partition(`ORG#${org}`)).filter((i) => String(i.SK).startsWith("APP#"))).toEqual([]);
    expect(await storedChain(org)).toHaveLength(1);
  });

  it("a change refused by its own condition writes no entry from the service", async () => {
    const org = await newOrg("tx-refused");
    const audit = pendingAudit({ ...base, action: "apps.delete", actor: { ...base.actor, org } });
    const refusal = await deleteApp(tenantTable(org), keyStore(), "b".repeat(26), audit).catch((e: unknown) => e);
    expect(toProblem(refusal)).toMatchObject({ status: 404 });
    expect(audit.record).toBeUndefined();
    expect(await storedChain(org)).toHaveLength(1);
  });
});

describe("what each request leaves in the chain", () => {
  it("every mutating request and every platform-token request leaves exactly its entry; nothing else does", async () => {
    const org = await newOrg("routes");
    const appId = await createApp_(org, "first-app");
    expect((await onOrg(org, "PATCH", `/v1/apps/${appId}`, { token: member(org, "developer"), body: { description: "private words" } })).status).toBe(200);
    const refused = await onOrg(org, "DELETE", `/v1/apps/${appId}`, { token: member(org, "developer") });
    expect(refused.status).toBe(403);
    expect((await onOrg(org, "GET", `/v1/apps/${appId}`, { token: member(org, "viewer") })).status).toBe(200);
    expect((await onOrg(org, "GET", "/v1/apps", { token: member(org, "owner") })).status).toBe(200);
    // A vendor read under the standing Observe grant: admitted, and chained like every vendor request.
    const vendorRead = await onOrg(org, "GET", "/v1/apps", { token: platform("operator") });
    expect(vendorRead.status).toBe(200);
    const vendorWrite = await onOrg(org, "POST", "/v1/apps", { token: platform(), body: { name: "vendor-sneaks-in" } });
    expect(vendorWrite.status).toBe(403);
    const runtimeWrite = await onOrg(org, "POST", "/v1/apps", { token: remember(api.tokens.runtime(org, appId)), body: { name: "runtime-app" } });
    expect(runtimeWrite.status).toBe(403);
    // Not chained: another org's identity, no token, a bad token.
    expect((await onOrg(org, "POST", "/v1/apps", { token: member("globex", "owner"), body: { name: "x" } })).status).toBe(403);
    expect((await onOrg(org, "POST", "/v1/apps", { body: { name: "x" } })).status).toBe(401);
    expect((await onOrg(org, "POST", "/v1/apps", { token: "not.a.token", body: { name: "x" } })).status).toBe(401);
    expect((await onOrg(org, "DELETE", `/v1/apps/${appId}`, { token: member(org, "admin", "alice") })).status).toBe(204);
    const missing = await onOrg(org, "DELETE", `/v1/apps/${appId}`, { token: member(org, "admin", "alice") });
    expect(missing.status).toBe(404);

    const chain = await storedChain(org);
    const summary = chain.map((e) => [e.seq, e.action, e.actor.kind, e.outcome.result, e.outcome.status]);
    expect(summary).toEqual([
      [1, "orgs.create", "platform", "ok", 201],
      [2, "apps.create", "member", "ok", 201],
      [3, "apps.update", "member", "ok", 200],
      [4, "apps.delete", "member", "denied", 403],
      [5, "apps.list", "platform", "ok", 200],
      [6, "apps.create", "platform", "denied", 403],
      [7, "apps.create", "runtime", "denied", 403],
      [8, "apps.delete", "member", "ok", 204],
      [9, "apps.delete", "member", "failed", 404],
    ]);
    expect(chain[1]).toMatchObject({ actor: { kind: "member", sub: `developer-of-${org}`, org, role: "developer" }, target: { appId }, org, sourceIp: "127.0.0.1" });
    expect(chain[3]).toMatchObject({ target: { appId }, outcome: { problem: "forbidden" }, requestId: refused.json.requestId });
    expect(chain[4]).toMatchObject({ actor: { kind: "platform", sub: "ops", role: "operator" }, target: {}, outcome: { result: "ok", status: 200 } });
    expect(chain[5]).toMatchObject({ actor: { kind: "platform", sub: "ops", role: "platform-admin" }, target: {}, requestId: vendorWrite.json.requestId });
    expect(chain[6]).toMatchObject({ actor: { kind: "runtime", org, app: appId } });
    expect(chain[7]).toMatchObject({ actor: { sub: "alice", role: "admin" }, target: { appId } });
    expect(chain[8]).toMatchObject({ outcome: { problem: "not-found" }, requestId: missing.json.requestId });
    // Never a body: not the description, not the refused vendor's app name.
    const text = JSON.stringify(chain);
    for (const fromABody of ["private words", "vendor-sneaks-in", "runtime-app", "first-app"]) expect(text).not.toContain(fromABody);
    expect(text).not.toContain("globex");
    expect(await verify(org)).toMatchObject({ ok: true, entries: 9 });
  });

  it("platform-host changes to an org are in that org's chain; refusals there have no chain", async () => {
    const org = await newOrg("vendor");
    expect((await api.call(api.platformHost, "POST", `/v1/orgs/${org}/suspend`, { token: platform("operator") })).status).toBe(403);
    expect((await api.call(api.platformHost, "POST", `/v1/orgs/${org}/suspend`, { token: platform() })).status).toBe(200);
    expect((await api.call(api.platformHost, "POST", `/v1/orgs/${org}/resume`, { token: platform() })).status).toBe(200);
    expect((await api.call(api.platformHost, "POST", "/v1/orgs", { token: platform(), body: { slug: org, name: "again" } })).status).toBe(409);
    expect((await api.call(api.platformHost, "GET", `/v1/orgs/${org}`, { token: platform() })).status).toBe(200);
    expect((await api.call(api.platformHost, "POST", "/v1/orgs/never-created/suspend", { token: platform() })).status).toBe(404);
    const chain = await storedChain(org);
    expect(chain.map((e) => [e.action, e.outcome.result, e.target])).toEqual([
      ["orgs.create", "ok", { slug: org, status: "active" }],
      ["orgs.suspend", "ok", { slug: org, status: "suspended" }],
      ["orgs.resume", "ok", { slug: org, status: "active" }],
    ]);
    expect(chain.every((e) => e.actor.kind === "platform" && e.actor.role === "platform-admin")).toBe(true);
    expect(await storedChain("never-created", { settle: false })).toEqual([]);
    expect(await api.partition("ORG#never-created#AUDIT#PENDING")).toEqual([]);
  });

  it("no token and no secret value is ever in the table's audit items", async () => {
    const audit = (await api.dumpTable()).filter((item) => String(item.PK).includes("#AUDIT"));
    expect(audit.length).toBeGreaterThan(100);
    const text = JSON.stringify(audit);
    expect(tokensUsed.size).toBeGreaterThan(5);
    for (const token of tokensUsed) {
      for (const part of token.split(".")) if (part.length > 20) expect(text).not.toContain(part);
    }
    expect(text.toLowerCase()).not.toContain("bearer");
  });
});

describe("audited steps (for workflows)", () => {
  const step = { actor: { kind: "system" as const, sub: "deploy-workflow" }, action: "deploy.assume-role", target: { appId: "c".repeat(26), deploymentId: "d1" }, requestId: "exec-1" };

  it("write the intent before acting and the outcome after", async () => {
    const org = await newOrg("steps");
    const table = tenantTable(org);
    // While the step acts, its intent is committed (waiting, or already sequenced).
    const seenDuring = await auditedStep(table, step, async () => [
      ...await api.partition(`ORG#${org}#AUDIT#PENDING`),
      ...await api.partition(`ORG#${org}#AUDIT`),
    ].find((item) => item.requestId === "exec-1"));
    expect(seenDuring).toMatchObject({ outcome: { result: "started" } });
    await expect(auditedStep(table, { ...step, requestId: "exec-2" }, async () => {
      throw new RangeError("secret detail that must not be recorded");
    })).rejects.toThrow(RangeError);
    const chain = await storedChain(org);
    expect(chain.slice(1).map((e) => [e.seq, e.requestId, e.outcome])).toEqual([
      [2, "exec-1", { result: "started" }],
      [3, "exec-1", { result: "ok", intentId: chain[1]!.id }],
      [4, "exec-2", { result: "started" }],
      [5, "exec-2", { result: "failed", problem: "RangeError", intentId: chain[3]!.id }],
    ]);
    expect(chain[1]!.id).toBe(seenDuring!.id);
    expect(JSON.stringify(chain)).not.toContain("secret detail");
  });
});

describe("reading the chain", () => {
  let org: string;
  beforeAll(async () => {
    org = await newOrg("reading");
    for (let i = 0; i < 6; i++) await createApp_(org, `r-${i}`, i % 2 ? "admin" : "developer");
    await onOrg(org, "DELETE", `/v1/apps/${"e".repeat(26)}`, { token: member(org, "admin") });
    await auditSettled(api, org);
  });
  const list = (query: string, token = member(org, "admin")) => onOrg(org, "GET", `/v1/audit${query}`, { token });

  it("lists newest first, or oldest first, as the stored entries", async () => {
    const all = await list("?limit=100");
    expect(all.status).toBe(200);
    expect(all.json.items.map((e: any) => e.seq)).toEqual([8, 7, 6, 5, 4, 3, 2, 1]);
    expect((await list("?limit=100&order=asc")).json.items.map((e: any) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const stored = (await storedChain(org)).map(shown);
    expect((await list("?limit=100&order=asc")).json).toEqual({ items: stored, pending: 0 });
  });

  it("filters by action, actor and time", async () => {
    expect((await list("?action=apps.delete")).json.items.map((e: any) => e.outcome.status)).toEqual([404]);
    const byAdmin = (await list(`?actor=admin-of-${org}`)).json.items;
    expect(byAdmin.map((e: any) => e.seq)).toEqual([8, 7, 5, 3]);
    const stored = await storedChain(org);
    const [from, to] = [stored[2]!.time, stored[4]!.time];
    const window = (await list(`?from=${from}&to=${to}&order=asc`)).json.items;
    expect(window.map((e: any) => e.seq)).toEqual(stored.filter((e) => e.time >= from && e.time <= to).map((e) => e.seq));
    expect(window.length).toBeGreaterThanOrEqual(3);
    expect((await list(`?action=apps.create&actor=admin-of-${org}`)).json.items).toHaveLength(3);
  });

  it("pages with signed cursors, also through a sparse filter", async () => {
    for (const query of ["?limit=3", `?limit=2&actor=developer-of-${org}`]) {
      const seen: number[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await list(`${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
        expect(page.status, page.text).toBe(200);
        seen.push(...page.json.items.map((e: any) => e.seq));
        cursor = page.json.cursor;
        pages++;
      } while (cursor && pages < 10);
      const expected = (await list(`${query.replace(/limit=\d/, "limit=100")}`)).json.items.map((e: any) => e.seq);
      expect(seen, query).toEqual(expected);
      expect(pages).toBeGreaterThanOrEqual(2);
    }
  });

  it("refuses bad filters, other orgs' cursors and other listings' cursors (400)", async () => {
    for (const query of ["?from=yesterday", "?from=2025-02-01T00:00:00Z&to=2025-01-01T00:00:00Z", "?action=APPS", "?actor=a%23b", "?order=sideways", "?org=globex", "?limit=0"]) {
      expect((await list(query)).status, query).toBe(400);
    }
    const globexPage = await onOrg("globex", "GET", "/v1/audit?limit=1", { token: member("globex", "admin") });
    await createApp_("globex", "g1");
    await createApp_("globex", "g2");
    await auditSettled(api, "globex");
    const globexCursor = (await onOrg("globex", "GET", "/v1/audit?limit=1", { token: member("globex", "admin") })).json.cursor;
    expect(globexPage.status).toBe(200);
    expect(globexCursor).toBeTruthy();
    expect((await list(`?cursor=${encodeURIComponent(globexCursor)}`)).json.type).toBe("urn:bulkhead:problem:invalid-cursor");
    const appsCursor = (await onOrg(org, "GET", "/v1/apps?limit=1", { token: member(org, "admin") })).json.cursor;
    expect((await list(`?cursor=${encodeURIComponent(appsCursor)}`)).json.type).toBe("urn:bulkhead:problem:invalid-cursor");
    const auditCursor = (await list("?limit=1")).json.cursor;
    const onApps = await onOrg(org, "GET", `/v1/apps?cursor=${encodeURIComponent(auditCursor)}`, { token: member(org, "admin") });
    expect(onApps.status).toBe(400);
    expect(onApps.json.type).toBe("urn:bulkhead:problem:invalid-cursor");
    const onCheckpoints = await onOrg(org, "GET", `/v1/audit/checkpoints?cursor=${encodeURIComponent(auditCursor)}`, { token: member(org, "admin") });
    expect(onCheckpoints.json.type).toBe("urn:bulkhead:problem:invalid-cursor");
  });

  it("serves only its own org's entries", async () => {
    const items = (await list("?limit=100")).json.items;
    expect(items.every((e: any) => e.org === org)).toBe(true);
    expect(JSON.stringify(items)).not.toContain("ORG#");
  });
});

/** Runs the offline verifier exactly as `npm run audit:verify -- …` does. */
function offlineVerify(...args: string[]) {
  const run = spawnSync(process.execPath, ["--import", "tsx", join(REPO_ROOT, "packages/local/src/cli/audit-verify.ts"), ...args], {
    cwd: REPO_ROOT,
    encoding: "utf8",
    timeout: 60_000,
  });
  return { code: run.status, out: `${run.stdout}${run.stderr}` };
}

describe("export, verify, and tampering in the table", () => {
  let org: string;
  let dir: string;
  let original: Record<string, any>[];
  let originalHeads: Record<string, any>[];
  const N = 12;

  beforeAll(async () => {
    org = await newOrg("tamper");
    dir = mkdtempSync(join(tmpdir(), "bulkhead-audit-"));
    const appIds: string[] = [];
    for (let i = 0; i < 7; i++) appIds.push(await createApp_(org, `t-${i}`));
    for (const id of appIds.slice(0, 4)) await onOrg(org, "DELETE", `/v1/apps/${id}`, { token: member(org, "admin") });
    original = await storedChain(org);
    expect(original).toHaveLength(N);
    originalHeads = (await api.partition(`ORG#${org}#AUDIT`)).filter((item) => String(item.SK).startsWith("HEAD#"));
  });

  const exportTo = async (name: string, limit = 1000) => {
    const lines: string[] = [];
    let path: string | undefined = `/v1/audit/export?limit=${limit}`;
    while (path) {
      const page = await onOrg(org, "GET", path, { token: member(org, "owner") });
      expect(page.status, page.text).toBe(200);
      expect(page.headers["content-type"]).toBe("application/x-ndjson");
      lines.push(page.text);
      path = /^<([^>]+)>; rel="next"$/.exec(String(page.headers.link ?? ""))?.[1];
    }
    const file = join(dir, name);
    writeFileSync(file, lines.join(""));
    return { file, text: lines.join("") };
  };

  const table = () => api.offline.config.tableName;
  const restore = async () => {
    for (const item of await api.partition(`ORG#${org}#AUDIT`)) await api.db.send(new DeleteCommand({ TableName: table(), Key: { PK: item.PK, SK: item.SK } }));
    for (const item of [...original, ...originalHeads]) await api.db.send(new PutCommand({ TableName: table(), Item: item }));
    expect(await verify(org)).toMatchObject({ ok: true, entries: N });
  };
  const entryKey = (seq: number) => keys.auditEntry(org, seq);
  let headArgs: string[];

  /**
   * The API's verify names `seq` (the nodes stored on each entry pin its content). The offline
   * verifier has only the export and the pinned heads: it names the first head that covers `seq`,
   * or `seq` itself when the damage shows in the order of the entries.
   */
  async function expectBothFailAt(seq: number, name: string, offlineAt = seq) {
    const result = await verify(org);
    expect(result, name).toMatchObject({ ok: false, seq });
    const { file } = await exportTo(`${name}.jsonl`);
    const offline = offlineVerify(file, ...headArgs);
    expect(offline.code, offline.out).toBe(1);
    expect(offline.out).toContain(`FAILED at seq ${offlineAt}:`);
    return result;
  }
  const firstHeadCovering = (seq: number) => Math.min(...originalHeads.map((h) => h.treeSize).filter((size) => size >= seq));

  it("exports JSON Lines, page by page, that the offline verifier accepts on its own and against the signed heads", async () => {
    const { file, text } = await exportTo("intact.jsonl", 5);
    const lines = text.trimEnd().split("\n").map((line) => JSON.parse(line));
    expect(lines.map((e) => e.seq)).toEqual(Array.from({ length: N }, (_, i) => i + 1));
    expect(lines).toEqual(original.map(shown));
    const verified = await verify(org);
    expect(verified).toMatchObject({ ok: true, entries: N, treeSize: N, headsChecked: originalHeads.length, pending: 0, unverifiedAnchors: 0 });
    const plain = offlineVerify(file);
    expect(plain.code, plain.out).toBe(0);
    expect(plain.out).toContain(`OK: ${N} entries, tree root ${verified.rootHash}`);

    const heads = await onOrg(org, "GET", "/v1/audit/heads?limit=100", { token: member(org, "admin") });
    expect(heads.json.items[0]).toMatchObject({ org, treeSize: N, rootHash: verified.rootHash, algorithm: "Ed25519" });
    expect(heads.json.items.map((h: any) => h.treeSize)).toEqual(originalHeads.map((h) => h.treeSize).reverse());
    expect(heads.json.publicKey).toMatchObject({ keyId: heads.json.items[0].keyId, algorithm: "Ed25519", pem: expect.stringContaining("BEGIN PUBLIC KEY") });
    writeFileSync(join(dir, "heads.json"), heads.text);
    writeFileSync(join(dir, "key.pem"), heads.json.publicKey.pem);
    headArgs = ["--heads", join(dir, "heads.json"), "--public-key", join(dir, "key.pem")];
    const anchored = offlineVerify(file, ...headArgs);
    expect(anchored.code, anchored.out).toBe(0);
    expect(anchored.out).toContain(`matches ${heads.json.items.length} signed tree head(s)`);
  });

  it("an edited field is reported at its seq", async () => {
    await api.db.send(new UpdateCommand({
      TableName: table(), Key: entryKey(5),
      UpdateExpression: "SET outcome.#status = :s", ExpressionAttributeNames: { "#status": "status" }, ExpressionAttributeValues: { ":s": 200 },
    }));
    const result = await expectBothFailAt(5, "edited", firstHeadCovering(5));
    expect(result.reason).toContain("altered");
    await restore();
  });

  it("a deleted entry is reported at its seq", async () => {
    await api.db.send(new DeleteCommand({ TableName: table(), Key: entryKey(7) }));
    expect((await expectBothFailAt(7, "deleted")).reason).toContain("missing");
    await restore();
  });

  it("two swapped entries are reported at the first of them", async () => {
    const [third, fourth] = [original[2]!, original[3]!];
    await api.db.send(new PutCommand({ TableName: table(), Item: { ...fourth, ...entryKey(3) } }));
    await api.db.send(new PutCommand({ TableName: table(), Item: { ...third, ...entryKey(4) } }));
    await expectBothFailAt(3, "swapped");
    await restore();
  });

  it("an entry rewritten with its own seq and consistent nodes is caught by the signed head that covers it", async () => {
    const { leafOf } = await import("../packages/core/src/audit/entry.ts");
    const forged = { ...shown(original[5]!), action: "apps.get" };
    // The forger recomputes the entry's own leaf node, but cannot re-sign the heads.
    await api.db.send(new PutCommand({ TableName: table(), Item: { ...original[5]!, ...forged, nodes: [leafOf(forged as never), ...original[5]!.nodes.slice(1)] } }));
    const result = await verify(org);
    expect(result).toMatchObject({ ok: false });
    expect(result.seq).toBeGreaterThanOrEqual(6);
    const { file } = await exportTo("forged.jsonl");
    const offline = offlineVerify(file, ...headArgs);
    expect(offline.code, offline.out).toBe(1);
    expect(offline.out).toMatch(/FAILED at seq \d+: the tree of size \d+ does not have the root its signed head names/);
    await restore();
  });

  it("an altered tree node is reported at the entry that holds it", async () => {
    const nodes = [...original[7]!.nodes];
    nodes[nodes.length - 1] = "f".repeat(64);
    await api.db.send(new PutCommand({ TableName: table(), Item: { ...original[7]!, nodes } }));
    expect(await verify(org)).toMatchObject({ ok: false, seq: 8, reason: expect.stringContaining("tree nodes stored with this entry") });
    await restore();
  });

  it("a tail truncated after a signed head is reported at the first missing seq, by the head", async () => {
    for (const seq of [N - 2, N - 1, N]) await api.db.send(new DeleteCommand({ TableName: table(), Key: entryKey(seq) }));
    for (const head of originalHeads.filter((h) => h.treeSize > N - 3)) await api.db.send(new DeleteCommand({ TableName: table(), Key: { PK: head.PK, SK: head.SK } }));
    // The table alone now looks whole; the heads a customer pinned do not.
    expect(await verify(org)).toMatchObject({ ok: true, entries: N - 3 });
    const { file } = await exportTo("truncated.jsonl");
    const offline = offlineVerify(file, ...headArgs);
    expect(offline.code, offline.out).toBe(1);
    expect(offline.out).toContain(`FAILED at seq ${N - 2}:`);
    expect(offline.out).toContain("truncated");
    expect(offlineVerify(file).code).toBe(0);
    await restore();
  });

  it("a stored head that was altered fails the verification at its size; an offline key that did not sign the heads is refused", async () => {
    const head = originalHeads.at(-1)!;
    await api.db.send(new PutCommand({ TableName: table(), Item: { ...head, rootHash: "0".repeat(64) } }));
    expect(await verify(org)).toMatchObject({ ok: false, seq: head.treeSize, reason: expect.stringContaining("not validly signed") });
    await api.db.send(new PutCommand({ TableName: table(), Item: { ...head, frontier: ["e".repeat(64)] } }));
    expect(await verify(org)).toMatchObject({ ok: false, seq: head.treeSize, reason: expect.stringContaining("right edge") });
    await restore();

    const { generateKeyPairSync } = await import("node:crypto");
    writeFileSync(join(dir, "other.pem"), generateKeyPairSync("ed25519").publicKey.export({ type: "spki", format: "pem" }));
    const { file } = await exportTo("again.jsonl");
    const wrongKey = offlineVerify(file, "--heads", join(dir, "heads.json"), "--public-key", join(dir, "other.pem"));
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.out).toContain("not validly signed by this key");
  });

  it("the offline verifier explains its usage (exit 2)", () => {
    expect(offlineVerify().code).toBe(2);
    expect(offlineVerify(join(dir, "intact.jsonl"), "--heads", join(dir, "heads.json")).code).toBe(2);
    expect(offlineVerify("--inclusion", join(dir, "heads.json")).code).toBe(2);
  });

  it("inclusion and consistency proofs check out offline against pinned heads, and fail at the place they were altered", async () => {
    const older = (await onOrg(org, "GET", "/v1/audit/heads?limit=100", { token: member(org, "admin") })).json.items.at(-1);
    await createApp_(org, "later");
    await auditSettled(api, org);
    const newest = (await onOrg(org, "GET", "/v1/audit/heads?limit=1", { token: member(org, "admin") })).json.items[0];
    expect(newest.treeSize).toBe(N + 1);
    writeFileSync(join(dir, "older.json"), JSON.stringify(older));
    writeFileSync(join(dir, "newest.json"), JSON.stringify(newest));

    const inclusion = await onOrg(org, "GET", `/v1/audit/proof/inclusion?seq=3&treeSize=${N + 1}`, { token: member(org, "admin") });
    expect(inclusion.status, inclusion.text).toBe(200);
    expect(inclusion.json).toMatchObject({ seq: 3, treeSize: N + 1, leafIndex: 2, entry: shown(original[2]!), rootHash: newest.rootHash, head: newest });
    // The same audit path as RFC 6962's PATH and PROOF computed independently over the exported leaves.
    const leaves = (await exportTo("for-reference.jsonl")).text.trimEnd().split("\n").map((line) => new TextEncoder().encode(canonicalJson(JSON.parse(line))));
    expect(leaves).toHaveLength(N + 1);
    expect(inclusion.json.auditPath).toEqual(referencePath(2, leaves));
    expect(inclusion.json.rootHash).toBe(mth(leaves));
    writeFileSync(join(dir, "inclusion.json"), inclusion.text);
    const included = offlineVerify("--inclusion", join(dir, "inclusion.json"), "--head", join(dir, "newest.json"), "--public-key", join(dir, "key.pem"));
    expect(included.code, included.out).toBe(0);
    expect(included.out).toContain(`OK: entry 3 is in the signed tree of ${N + 1} entries`);
    writeFileSync(join(dir, "inclusion-forged.json"), JSON.stringify({ ...inclusion.json, entry: { ...inclusion.json.entry, action: "apps.get" } }));
    const forged = offlineVerify("--inclusion", join(dir, "inclusion-forged.json"), "--head", join(dir, "newest.json"), "--public-key", join(dir, "key.pem"));
    expect(forged.code).toBe(1);
    expect(forged.out).toContain("FAILED at seq 3: the entry is not in the signed tree");

    const consistency = await onOrg(org, "GET", `/v1/audit/proof/consistency?from=${older.treeSize}&to=${N + 1}`, { token: member(org, "admin") });
    expect(consistency.status, consistency.text).toBe(200);
    expect(consistency.json).toMatchObject({ from: older.treeSize, to: N + 1, fromRoot: older.rootHash, toRoot: newest.rootHash, fromHead: older, toHead: newest });
    expect(consistency.json.proof).toEqual(referenceProof(older.treeSize, leaves));
    writeFileSync(join(dir, "consistency.json"), consistency.text);
    const grown = offlineVerify("--consistency", join(dir, "consistency.json"), "--from", join(dir, "older.json"), "--to", join(dir, "newest.json"), "--public-key", join(dir, "key.pem"));
    expect(grown.code, grown.out).toBe(0);
    const tampered = { ...consistency.json, proof: consistency.json.proof.map((h: string, i: number) => (i === 0 ? "a".repeat(64) : h)) };
    writeFileSync(join(dir, "consistency-forged.json"), JSON.stringify(tampered));
    const rewritten = offlineVerify("--consistency", join(dir, "consistency-forged.json"), "--from", join(dir, "older.json"), "--to", join(dir, "newest.json"), "--public-key", join(dir, "key.pem"));
    expect(rewritten.code).toBe(1);
    expect(rewritten.out).toContain(`FAILED at tree size ${N + 1}:`);
  });

  it("proof requests beyond the log or out of order are a 400 problem", async () => {
    for (const query of ["inclusion?seq=99&treeSize=999", "inclusion?seq=5&treeSize=3", "consistency?from=9&to=3", "consistency?from=1&to=999", "inclusion?seq=0", "inclusion?seq=1.5", "inclusion", "consistency?from=-1", "inclusion?seq=1&org=globex"]) {
      const reply = await onOrg(org, "GET", `/v1/audit/proof/${query}`, { token: member(org, "admin") });
      expect(reply.status, query).toBe(400);
      expect(reply.headers["content-type"]).toBe("application/problem+json");
    }
  });
});

describe("proofs read O(log n), never the whole log", () => {
  it("an inclusion and a consistency proof are one Query of the newest head and one BatchGet", async () => {
    const org = await newOrg("proof-reads");
    for (let i = 0; i < 20; i++) await createApp_(org, `p-${i}`);
    await auditSettled(api, org);
    await onOrg(org, "GET", "/v1/org", { token: member(org, "viewer") });
    for (const path of ["/v1/audit/proof/inclusion?seq=7&treeSize=18", "/v1/audit/proof/consistency?from=5&to=21"]) {
      const { sent, result } = await commandsSent(org, () => onOrg(org, "GET", path, { token: member(org, "admin") }));
      expect((result as any).status, path).toBe(200);
      expect(sent).toEqual(["BatchGetItemCommand", "QueryCommand"]);
    }
  });
});

describe("verification reads the audit partition once and writes nothing", () => {
  it("one Query serves the log and every anchor, beside the count of waiting records", async () => {
    const org = await newOrg("one-read");
    for (let seq = 1; seq <= 3; seq++) {
      if (seq > 1) await createApp_(org, `a-${seq}`);
      await auditSettled(api, org);
      await onOrg(org, "GET", "/v1/org", { token: member(org, "viewer") });
      const { sent, result } = await commandsSent(org, () => verify(org));
      expect(result).toMatchObject({ ok: true, entries: seq, treeSize: seq, pending: 0 });
      expect(sent).toEqual(["QueryCommand", "QueryCommand"]);
    }
  });
});

describe("when the log cannot be written", () => {
  it("the request answers 500 instead of going unaudited", async () => {
    const org = await newOrg("unwritable");
    const appId = await createApp_(org, "kept");
    const table = tenantTable(org);
    table.client.middlewareStack.add((next, context) => async (args: any) => {
      if (context.commandName === "PutItemCommand" && String(args.input.Item?.SK).startsWith("AUDIT-RECORD#")) throw new Error("audit store unavailable");
      return next(args);
    }, { step: "initialize", name: "failAppends" });
    try {
      const refused = await onOrg(org, "DELETE", `/v1/apps/${appId}`, { token: member(org, "viewer") });
      expect(refused.status).toBe(500);
      expect(refused.json.type).toBe("urn:bulkhead:problem:internal");
      expect(refused.text).not.toContain("audit store unavailable");
      const vendor = await onOrg(org, "GET", "/v1/apps", { token: platform() });
      expect(vendor.status).toBe(500);
      // A change commits with its record in one transaction, never through a later append: the
      // append's failure does not reach it.
      const suspend = await api.call(api.platformHost, "POST", `/v1/orgs/${org}/suspend`, { token: platform() });
      expect(suspend.status).toBe(200);
      expect((await api.call(api.platformHost, "GET", `/v1/orgs/${org}`, { token: platform() })).json.status).toBe("suspended");
    } finally {
      table.client.middlewareStack.remove("failAppends");
    }
    expect((await storedChain(org)).map((e) => e.action)).toEqual(["orgs.create", "apps.create", "orgs.suspend"]);
  });
});
