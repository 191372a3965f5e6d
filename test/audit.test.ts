import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DeleteCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp, deleteApp } from "../packages/core/src/apps.ts";
import { appendAudit, auditedStep, pendingAudit } from "../packages/core/src/audit/chain.ts";
import { keys } from "../packages/core/src/data/keys.ts";
import { tenantTable } from "../packages/core/src/data/tables.ts";
import { REPO_ROOT } from "../packages/local/src/runtime.ts";
import { startTestApi, type CallOptions, type TestApi } from "./support/api.ts";
import { commandsSent } from "./support/commands.ts";
import { keyStore } from "../packages/core/src/credentials/select-key-store.ts";

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

/** The org's chain as stored, in seq order. */
async function storedChain(org: string): Promise<Record<string, any>[]> {
  return (await api.partition(`ORG#${org}#AUDIT`)).filter((item) => String(item.SK).startsWith("SEQ#"));
}

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

describe("appending under concurrency", () => {
  it("50 concurrent appends leave seq contiguous and one valid chain (no duplicate, no fork)", async () => {
    const org = await newOrg("concurrent");
    const table = tenantTable(org);
    const entries = await Promise.all(Array.from({ length: 50 }, (_, i) => appendAudit(table, {
      actor: { kind: "system", sub: "load-test" }, action: "test.append", target: { n: String(i) }, outcome: { result: "ok" }, requestId: `r-${i}`,
    })));
    expect(entries.map((e) => e.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 2));
    const stored = await storedChain(org);
    expect(stored.map((e) => e.seq)).toEqual(Array.from({ length: 51 }, (_, i) => i + 1));
    for (let i = 1; i < stored.length; i++) expect(stored[i]!.prevHash).toBe(stored[i - 1]!.hash);
    expect(new Set(stored.map((e) => e.target.n).filter(Boolean)).size).toBe(50);
    expect(await verify(org)).toMatchObject({ ok: true, entries: 51, head: { seq: 51, hash: stored[50]!.hash } });
  });

  it("50 concurrent requests, audited in their own transactions or by the middleware, interleave into one chain", async () => {
    const org = await newOrg("concurrent-http");
    const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => i % 5 === 4
      ? onOrg(org, "DELETE", `/v1/apps/${"a".repeat(26)}`, { token: member(org, "viewer") })
      : onOrg(org, "POST", "/v1/apps", { token: member(org, "developer"), body: { name: `app-${i}` } })));
    expect(replies.filter((r) => r.status === 201)).toHaveLength(40);
    expect(replies.filter((r) => r.status === 403)).toHaveLength(10);
    const stored = await storedChain(org);
    expect(stored.map((e) => e.seq)).toEqual(Array.from({ length: 51 }, (_, i) => i + 1));
    const created = new Set(replies.filter((r) => r.status === 201).map((r) => r.json.id));
    expect(new Set(stored.filter((e) => e.action === "apps.create").map((e) => e.target.appId))).toEqual(created);
    expect(stored.filter((e) => e.action === "apps.delete" && e.outcome.result === "denied")).toHaveLength(10);
    expect(await verify(org)).toMatchObject({ ok: true, entries: 51 });
  });
});

describe("app changes commit with their entry", () => {
  const base = { actor: { kind: "member" as const, sub: "svc", org: "", role: "admin" }, action: "apps.create", requestId: "req-tx" };

  it("in one TransactWriteItems: the app item, its listing heads and the entry, after one consistent read of the head", async () => {
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
      expect(sent.map((s) => s.command)).toEqual(["QueryCommand", "TransactWriteItemsCommand"]);
      expect(sent[0]!.input).toMatchObject({ ConsistentRead: true, ScanIndexForward: false, Limit: 1 });
      const items = sent[1]!.input.TransactItems;
      const heads = keys.appListingHeads(org, app.id);
      expect(heads).toHaveLength(3); // credentials, deployments, sources
      expect(items).toHaveLength(2 + heads.length);
      expect(items[0].Put.Item).toMatchObject({ ...keys.app(org, app.id), name: "atomic" });
      expect(items.slice(1, 1 + heads.length).map((item: any) => item.Put)).toEqual(heads.map((key) => ({
        TableName: table.name, Item: { ...key, type: "app-listing-head", appId: app.id }, ConditionExpression: "attribute_not_exists(PK)",
      })));
      expect(items[1 + heads.length].Put).toMatchObject({ Item: { ...keys.auditEntry(org, 2), action: "apps.create", target: { appId: app.id } }, ConditionExpression: "attribute_not_exists(PK)" });
      expect(audit.entry).toMatchObject({ seq: 2, target: { appId: app.id } });
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
    await expect(deleteApp(tenantTable(org), keyStore(), "b".repeat(26), audit)).rejects.toMatchObject({ status: 404 });
    expect(audit.entry).toBeUndefined();
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
      ["orgs.create", "ok", { slug: org }],
      ["orgs.suspend", "ok", { slug: org }],
      ["orgs.resume", "ok", { slug: org }],
    ]);
    expect(chain.every((e) => e.actor.kind === "platform" && e.actor.role === "platform-admin")).toBe(true);
    expect(await storedChain("never-created")).toEqual([]);
  });

  it("no token and no secret value is ever in the table's audit items", async () => {
    const audit = (await api.dumpTable()).filter((item) => String(item.PK).endsWith("#AUDIT"));
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
    const seenDuring = await auditedStep(table, step, async () => (await storedChain(org)).at(-1));
    expect(seenDuring).toMatchObject({ seq: 2, outcome: { result: "started" } });
    await expect(auditedStep(table, { ...step, requestId: "exec-2" }, async () => {
      throw new RangeError("secret detail that must not be recorded");
    })).rejects.toThrow(RangeError);
    const chain = await storedChain(org);
    expect(chain.slice(1).map((e) => [e.seq, e.requestId, e.outcome])).toEqual([
      [2, "exec-1", { result: "started" }],
      [3, "exec-1", { result: "ok", intentSeq: 2 }],
      [4, "exec-2", { result: "started" }],
      [5, "exec-2", { result: "failed", problem: "RangeError", intentSeq: 4 }],
    ]);
    expect(JSON.stringify(chain)).not.toContain("secret detail");
  });
});

describe("reading the chain", () => {
  let org: string;
  beforeAll(async () => {
    org = await newOrg("reading");
    for (let i = 0; i < 6; i++) await createApp_(org, `r-${i}`, i % 2 ? "admin" : "developer");
    await onOrg(org, "DELETE", `/v1/apps/${"e".repeat(26)}`, { token: member(org, "admin") });
  });
  const list = (query: string, token = member(org, "admin")) => onOrg(org, "GET", `/v1/audit${query}`, { token });

  it("lists newest first, or oldest first, as the stored entries", async () => {
    const all = await list("?limit=100");
    expect(all.status).toBe(200);
    expect(all.json.items.map((e: any) => e.seq)).toEqual([8, 7, 6, 5, 4, 3, 2, 1]);
    expect((await list("?limit=100&order=asc")).json.items.map((e: any) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const stored = (await storedChain(org)).map(({ PK: _pk, SK: _sk, ...entry }) => entry);
    expect((await list("?limit=100&order=asc")).json.items).toEqual(stored);
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
  const N = 12;

  beforeAll(async () => {
    org = await newOrg("tamper");
    dir = mkdtempSync(join(tmpdir(), "bulkhead-audit-"));
    const appIds: string[] = [];
    for (let i = 0; i < 7; i++) appIds.push(await createApp_(org, `t-${i}`));
    for (const id of appIds.slice(0, 4)) await onOrg(org, "DELETE", `/v1/apps/${id}`, { token: member(org, "admin") });
    expect(await storedChain(org)).toHaveLength(N);
    original = await storedChain(org);
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

  const restore = async () => {
    for (const item of await storedChain(org)) await api.db.send(new DeleteCommand({ TableName: api.offline.config.tableName, Key: { PK: item.PK, SK: item.SK } }));
    for (const item of original) await api.db.send(new PutCommand({ TableName: api.offline.config.tableName, Item: item }));
    expect(await verify(org)).toMatchObject({ ok: true, entries: N });
  };
  const entryKey = (seq: number) => keys.auditEntry(org, seq);

  /** The API's verify and the offline verifier (on a fresh export) both name `seq`. */
  async function expectBothFailAt(seq: number, name: string, checkpointArgs: string[] = []) {
    const result = await verify(org);
    expect(result, name).toMatchObject({ ok: false, seq });
    expect(result.checkpoint).toBeUndefined();
    const { file } = await exportTo(`${name}.jsonl`);
    const offline = offlineVerify(file, ...checkpointArgs);
    expect(offline.code, offline.out).toBe(1);
    expect(offline.out).toContain(`FAILED at seq ${seq}:`);
    return result;
  }

  let checkpointArgs: string[];

  it("exports JSON Lines, page by page, that the offline verifier accepts on its own and against a signed checkpoint", async () => {
    const { file, text } = await exportTo("intact.jsonl", 5);
    const lines = text.trimEnd().split("\n").map((line) => JSON.parse(line));
    expect(lines.map((e) => e.seq)).toEqual(Array.from({ length: N }, (_, i) => i + 1));
    expect(lines).toEqual(original.map(({ PK: _pk, SK: _sk, ...entry }) => entry));
    const plain = offlineVerify(file);
    expect(plain.code, plain.out).toBe(0);
    expect(plain.out).toContain(`OK: ${N} entries, head seq ${N} hash ${original[N - 1]!.hash}`);

    const verified = await verify(org);
    expect(verified).toMatchObject({ ok: true, entries: N, head: { seq: N }, checkpoint: { org, seq: N, hash: original[N - 1]!.hash, algorithm: "Ed25519" } });
    const checkpoints = await onOrg(org, "GET", "/v1/audit/checkpoints", { token: member(org, "admin") });
    expect(checkpoints.json.items).toEqual([verified.checkpoint]);
    expect(checkpoints.json.publicKey).toMatchObject({ keyId: verified.checkpoint.keyId, algorithm: "Ed25519", pem: expect.stringContaining("BEGIN PUBLIC KEY") });
    writeFileSync(join(dir, "checkpoints.json"), checkpoints.text);
    writeFileSync(join(dir, "checkpoint-key.pem"), checkpoints.json.publicKey.pem);
    checkpointArgs = ["--checkpoint", join(dir, "checkpoints.json"), "--public-key", join(dir, "checkpoint-key.pem")];
    const anchored = offlineVerify(file, ...checkpointArgs);
    expect(anchored.code, anchored.out).toBe(0);
    expect(anchored.out).toContain(`consistent with 1 signed checkpoint(s) up to seq ${N}`);
  });

  it("an edited field is reported at its seq", async () => {
    await api.db.send(new UpdateCommand({
      TableName: api.offline.config.tableName, Key: entryKey(5),
      UpdateExpression: "SET outcome.#status = :s", ExpressionAttributeNames: { "#status": "status" }, ExpressionAttributeValues: { ":s": 200 },
    }));
    const result = await expectBothFailAt(5, "edited", checkpointArgs);
    expect(result.reason).toContain("altered");
    await restore();
  });

  it("a deleted entry is reported at its seq", async () => {
    await api.db.send(new DeleteCommand({ TableName: api.offline.config.tableName, Key: entryKey(7) }));
    expect((await expectBothFailAt(7, "deleted", checkpointArgs)).reason).toContain("missing");
    await restore();
  });

  it("two swapped entries are reported at the first of them", async () => {
    const [third, fourth] = [original[2]!, original[3]!];
    await api.db.send(new PutCommand({ TableName: api.offline.config.tableName, Item: { ...fourth, ...entryKey(3) } }));
    await api.db.send(new PutCommand({ TableName: api.offline.config.tableName, Item: { ...third, ...entryKey(4) } }));
    await expectBothFailAt(3, "swapped", checkpointArgs);
    await restore();
  });

  it("a tail truncated after a checkpoint is reported at the first missing seq, by the checkpoint", async () => {
    for (const seq of [N - 2, N - 1, N]) await api.db.send(new DeleteCommand({ TableName: api.offline.config.tableName, Key: entryKey(seq) }));
    const result = await expectBothFailAt(N - 2, "truncated", checkpointArgs);
    expect(result.reason).toContain("truncated");
    // Without the checkpoint the shortened export is self-consistent: that is what checkpoints are for.
    expect(offlineVerify(join(dir, "truncated.jsonl")).code).toBe(0);
    await restore();
  });

  it("a stored checkpoint that was altered fails the verification; an offline key that did not sign it is refused", async () => {
    const [checkpoint] = (await api.partition(`ORG#${org}#AUDIT`)).filter((item) => String(item.SK).startsWith("CHECKPOINT#"));
    await api.db.send(new PutCommand({ TableName: api.offline.config.tableName, Item: { ...checkpoint, hash: original[0]!.hash } }));
    expect(await verify(org)).toMatchObject({ ok: false, seq: N, reason: expect.stringContaining("not validly signed") });
    await api.db.send(new PutCommand({ TableName: api.offline.config.tableName, Item: checkpoint }));
    expect(await verify(org)).toMatchObject({ ok: true });

    const { generateKeyPairSync } = await import("node:crypto");
    writeFileSync(join(dir, "other.pem"), generateKeyPairSync("ed25519").publicKey.export({ type: "spki", format: "pem" }));
    const { file } = await exportTo("again.jsonl");
    const wrongKey = offlineVerify(file, "--checkpoint", join(dir, "checkpoints.json"), "--public-key", join(dir, "other.pem"));
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.out).toContain("not signed by this public key");
  });

  it("the offline verifier explains its usage (exit 2)", () => {
    expect(offlineVerify().code).toBe(2);
    expect(offlineVerify(join(dir, "intact.jsonl"), "--checkpoint", join(dir, "checkpoints.json")).code).toBe(2);
  });

  it("a new append after verification moves the head, and the next verify checkpoints it", async () => {
    await createApp_(org, "later");
    const result = await verify(org);
    expect(result).toMatchObject({ ok: true, entries: N + 1, checkpoint: { seq: N + 1 } });
    const checkpoints = (await onOrg(org, "GET", "/v1/audit/checkpoints?limit=1", { token: member(org, "admin") })).json;
    expect(checkpoints.items.map((c: any) => c.seq)).toEqual([N + 1]);
    expect(checkpoints.cursor).toBeTruthy();
  });
});

describe("verification reads the audit partition once", () => {
  /** The DynamoDB commands a request sends, the org lookup warm. */
  async function commandsOf(org: string, request: () => Promise<unknown>) {
    await onOrg(org, "GET", "/v1/org", { token: member(org, "viewer") });
    return commandsSent(org, request);
  }

  it("one Query serves the chain and every checkpoint; only a moved head adds the new checkpoint's write", async () => {
    const org = await newOrg("one-read");
    const first = await commandsOf(org, () => verify(org));
    expect(first.result).toMatchObject({ ok: true, entries: 1, checkpointsChecked: 0, checkpoint: { seq: 1 }, unverifiedCheckpoints: 0 });
    expect(first.sent).toEqual(["PutItemCommand", "QueryCommand"]);

    for (let seq = 2; seq <= 3; seq++) {
      await createApp_(org, `a-${seq}`);
      const moved = await commandsOf(org, () => verify(org));
      expect(moved.result).toMatchObject({ ok: true, entries: seq, checkpointsChecked: seq - 1, checkpoint: { seq } });
      expect(moved.sent).toEqual(["PutItemCommand", "QueryCommand"]);
    }
    const unchanged = await commandsOf(org, () => verify(org));
    expect(unchanged.result).toMatchObject({ ok: true, entries: 3, checkpointsChecked: 3, checkpoint: { seq: 3 }, unverifiedCheckpoints: 0 });
    expect(unchanged.sent).toEqual(["QueryCommand"]);
  });
});

describe("when the chain cannot be written", () => {
  it("the request answers 500 instead of going unaudited", async () => {
    const org = await newOrg("unwritable");
    const appId = await createApp_(org, "kept");
    const table = tenantTable(org);
    table.client.middlewareStack.add((next, context) => async (args: any) => {
      if (context.commandName === "PutItemCommand" && String(args.input.Item?.SK).startsWith("SEQ#")) throw new Error("audit store unavailable");
      return next(args);
    }, { step: "initialize", name: "failAppends" });
    try {
      const refused = await onOrg(org, "DELETE", `/v1/apps/${appId}`, { token: member(org, "viewer") });
      expect(refused.status).toBe(500);
      expect(refused.json.type).toBe("urn:bulkhead:problem:internal");
      expect(refused.text).not.toContain("audit store unavailable");
      const vendor = await onOrg(org, "GET", "/v1/apps", { token: platform() });
      expect(vendor.status).toBe(500);
      // A change that cannot share a transaction with its entry has happened by then: it stands,
      // and the caller is told that something failed rather than a plain success.
      const suspend = await api.call(api.platformHost, "POST", `/v1/orgs/${org}/suspend`, { token: platform() });
      expect(suspend.status).toBe(500);
      expect((await api.call(api.platformHost, "GET", `/v1/orgs/${org}`, { token: platform() })).json.status).toBe("suspended");
    } finally {
      table.client.middlewareStack.remove("failAppends");
    }
    expect((await storedChain(org)).map((e) => e.action)).toEqual(["orgs.create", "apps.create"]);
  });
});
