import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { decodeTime } from "ulid";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appendAudit } from "../packages/core/src/audit/chain.ts";
import { sealLegacyEntry, type AuditDraft, type LegacyAuditEntry } from "../packages/core/src/audit/entry.ts";
import { checkpointSigner } from "../packages/core/src/audit/select-signer.ts";
import { drainRecords, sequenceRecords, type SequencerStep } from "../packages/core/src/audit/sequencer.ts";
import { AUDIT_STREAM_SETTINGS, sequenceStreamBatch, STRAGGLER_MARGIN_MS } from "../packages/core/src/audit/stream.ts";
import { signedPayload } from "../packages/core/src/audit/tree-heads.ts";
import { readTreeState } from "../packages/core/src/audit/tree-store.ts";
import { keys } from "../packages/core/src/data/keys.ts";
import { tenantTable } from "../packages/core/src/data/tables.ts";
import { startTestApi, type TestApi } from "./support/api.ts";
import { auditSettled } from "./support/samples.ts";

/**
 * The sequencer under injected crashes, redeliveries and a lost stream, and the migration of a
 * legacy hash chain into the tree. Faults are armed per org, so each test's org is on its own.
 */
let api: TestApi;
const faults = new Map<string, (step: SequencerStep) => void>();
beforeAll(async () => (api = await startTestApi({ auditFault: (step, org) => faults.get(org)?.(step) })));
afterAll(() => api?.stop());

let orgCounter = 0;
async function newOrg(prefix: string): Promise<string> {
  const slug = `${prefix}-${++orgCounter}`;
  expect((await api.call(api.platformHost, "POST", "/v1/orgs", { token: api.tokens.platform(), body: { slug, name: slug } })).status).toBe(201);
  return slug;
}

const draft = (n: number): AuditDraft => ({
  actor: { kind: "system", sub: "fault-test" }, action: "test.append", target: { n: String(n) }, outcome: { result: "ok" }, requestId: `r-${n}`,
});

const entriesOf = async (org: string) => (await api.partition(`ORG#${org}#AUDIT`)).filter((item) => String(item.SK).startsWith("SEQ#"));
const waitingOf = (org: string) => api.partition(`ORG#${org}#AUDIT#PENDING`);
const verify = async (org: string) => (await api.call(api.orgHost(org), "GET", "/v1/audit/verify", { token: api.tokens.member(org, "admin") })).json;

/** Every record written is in the log exactly once, seqs run 1..n without a gap, and the tree verifies. */
async function expectExactlyOnce(org: string, ids: string[]) {
  const entries = await entriesOf(org);
  expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: entries.length }, (_, i) => i + 1));
  const logged = entries.map((e) => e.id);
  for (const id of ids) expect(logged.filter((x) => x === id), id).toHaveLength(1);
  expect(new Set(logged).size).toBe(logged.length);
  expect(await waitingOf(org)).toEqual([]);
  expect(await verify(org)).toMatchObject({ ok: true, entries: entries.length, pending: 0 });
}

describe("a crash at any step of the sequencer, then the stream's retry, converges", () => {
  for (const step of ["read-head", "sign", "commit", "committed"] as const) {
    it(`crashing at "${step}" twice loses nothing and duplicates nothing`, async () => {
      const org = await newOrg(`crash-${step}`);
      await auditSettled(api, org);
      let crashes = 0;
      faults.set(org, (at) => {
        if (at === step && crashes < 2) {
          crashes++;
          throw new Error(`injected crash at ${at}`);
        }
      });
      const records = await Promise.all(Array.from({ length: 12 }, (_, i) => appendAudit(tenantTable(org), draft(i))));
      await auditSettled(api, org);
      faults.delete(org);
      // A crash after the commit leaves nothing for the retry to do, so it may not be reached twice.
      if (step === "committed") expect(crashes).toBeGreaterThanOrEqual(1);
      else expect(crashes).toBe(2);
      await expectExactlyOnce(org, records.map((r) => r.id));
    });
  }

  it("a redelivered batch (records already sequenced) adds nothing and writes nothing", async () => {
    const org = await newOrg("redelivery");
    const records = await Promise.all(Array.from({ length: 5 }, (_, i) => appendAudit(tenantTable(org), draft(i))));
    await auditSettled(api, org);
    const before = await api.partition(`ORG#${org}#AUDIT`);
    const streamRecords = records.map((r) => ({ eventName: "INSERT", dynamodb: { Keys: { PK: { S: `ORG#${org}#AUDIT#PENDING` }, SK: { S: keys.auditRecord(org, r.id).SK } } } }));
    const signer = await checkpointSigner();
    expect(await sequenceStreamBatch(streamRecords, { signer })).toEqual({ orgs: 1, entries: 0 });
    // Even handed the records themselves (as a drain racing the stream would be), they are placed once.
    expect(await sequenceRecords(tenantTable(org), records, { signer })).toBe(0);
    expect(await api.partition(`ORG#${org}#AUDIT`)).toEqual(before);
    await expectExactlyOnce(org, records.map((r) => r.id));
  });

  it("records whose stream delivery failed past its retries stay waiting, and the org's next batch catches them up", async () => {
    const org = await newOrg("drain");
    await auditSettled(api, org);
    let attempts = 0;
    faults.set(org, () => {
      attempts++;
      throw new Error("sequencer down");
    });
    const records = await Promise.all(Array.from({ length: 7 }, (_, i) => appendAudit(tenantTable(org), draft(i))));
    // The offline mapping tries a failing batch once and retries it 10 times, then leaves it.
    for (const deadline = Date.now() + 20_000; attempts < 11 && Date.now() < deadline;) await new Promise((resolve) => setTimeout(resolve, 50));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await waitingOf(org)).toHaveLength(7);
    faults.delete(org);
    // Past the margin, the org's next write is sequenced with every record left behind before it.
    const made = Math.max(...records.map((r) => decodeTime(r.id)));
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, made + STRAGGLER_MARGIN_MS + 200 - Date.now())));
    const next = await appendAudit(tenantTable(org), draft(8));
    await auditSettled(api, org);
    await expectExactlyOnce(org, [...records.map((r) => r.id), next.id]);
  });

  it("two sequencers of one org at once (a drain overlapping the stream) never fork the tree", async () => {
    const org = await newOrg("race");
    const table = tenantTable(org);
    const records = await Promise.all(Array.from({ length: 60 }, (_, i) => appendAudit(table, draft(i))));
    const signer = await checkpointSigner();
    await Promise.all([drainRecords(table, { signer }), drainRecords(table, { signer })]);
    await auditSettled(api, org);
    await expectExactlyOnce(org, records.map((r) => r.id));
    expect((await readTreeState(table)).treeSize).toBe(61);
  });
});

describe("the offline mapping gathers batches as the event source mapping does", () => {
  const headsOf = async (org: string) => (await api.partition(`ORG#${org}#AUDIT`)).filter((item) => String(item.SK).startsWith(keys.auditTreeHeadPrefix));
  const windowMs = AUDIT_STREAM_SETTINGS.maximumBatchingWindowInSeconds * 1000;

  it("records committed within the batching window wait for it, then are one batch, one transaction and one signed head per org", async () => {
    const orgs = [await newOrg("window"), await newOrg("window")];
    for (const org of orgs) await auditSettled(api, org);
    const headsBefore = await Promise.all(orgs.map(headsOf));
    const started = Date.now();
    const records = [];
    // Three writes per org, a tenth of the window apart: the first opens a batch that the last joins.
    for (let i = 0; i < 3; i++) {
      if (i) await new Promise((resolve) => setTimeout(resolve, windowMs * 0.1));
      records.push(...await Promise.all(orgs.map((org) => appendAudit(tenantTable(org), draft(i)))));
    }
    const spreadMs = Date.now() - started;
    // The batch began after `started`: while the window is still open, nothing has been handed on.
    const waiting = await Promise.all(orgs.map(waitingOf));
    if (Date.now() - started < windowMs * 0.8) for (const records of waiting) expect(records).toHaveLength(3);
    for (const org of orgs) await auditSettled(api, org);
    const headsAfter = await Promise.all(orgs.map(headsOf));
    // One head each, unless a loaded machine spread the writes over most of the window.
    const allowed = spreadMs < windowMs * 0.7 ? 1 : 2;
    orgs.forEach((org, i) => expect(headsAfter[i]!.length - headsBefore[i]!.length, org).toBeLessThanOrEqual(allowed));
    for (const org of orgs) await expectExactlyOnce(org, records.filter((r) => r.org === org).map((r) => r.id));
  });
});

describe("a legacy hash chain is adopted into the tree", () => {
  it("its entries keep their order and content, the first head commits to all of them, and both the chain and the tree verify", async () => {
    // An org registered before the log existed (its registry record written as the previous
    // version did, with no record of its own): give it a chain as that format wrote it, with a checkpoint.
    const org = "legacy";
    const at = new Date(Date.UTC(2026, 0, 1)).toISOString();
    await api.db.send(new PutCommand({ TableName: api.offline.config.tableName, Item: { ...keys.orgRecord(org), slug: org, name: "Legacy", status: "active", createdAt: at, updatedAt: at } }));
    const chain: LegacyAuditEntry[] = [];
    for (let i = 0; i < 30; i++) chain.push(sealLegacyEntry(org, chain.at(-1), draft(i), new Date(Date.UTC(2026, 0, 1, 0, 0, i))));
    for (const entry of chain) await api.db.send(new PutCommand({ TableName: api.offline.config.tableName, Item: { ...keys.auditEntry(org, entry.seq), ...entry } }));
    const signer = await checkpointSigner();
    const { keyId } = await signer.describe();
    const unsigned = { v: 1, org, seq: 20, hash: chain[19]!.hash, time: new Date().toISOString(), keyId, algorithm: signer.algorithm };
    const checkpoint = { ...unsigned, signature: (await signer.sign(signedPayload(unsigned))).toString("base64") };
    await api.db.send(new PutCommand({ TableName: api.offline.config.tableName, Item: { ...keys.auditCheckpoint(org, 20), ...checkpoint } }));

    const created = await api.call(api.orgHost(org), "POST", "/v1/apps", { token: api.tokens.member(org, "admin"), body: { name: "after-migration" } });
    expect(created.status).toBe(201);
    await auditSettled(api, org);
    const entries = await entriesOf(org);
    expect(entries).toHaveLength(31);
    expect(entries.slice(0, 30).map(({ PK: _pk, SK: _sk, nodes: _nodes, ...entry }) => entry)).toEqual(chain);
    expect(entries[30]).toMatchObject({ v: 2, seq: 31, action: "apps.create", target: { appId: created.json.id } });
    expect(await verify(org)).toMatchObject({ ok: true, entries: 31, checkpointsChecked: 1 });
    const heads = (await api.call(api.orgHost(org), "GET", "/v1/audit/heads?limit=100", { token: api.tokens.member(org, "admin") })).json.items;
    expect(heads.map((h: any) => h.treeSize).sort((a: number, b: number) => a - b)).toEqual([30, 31]);

    // The legacy chain still breaks at the place it is altered.
    await api.db.send(new PutCommand({ TableName: api.offline.config.tableName, Item: { ...entries[9]!, prevHash: "1".repeat(64) } }));
    expect(await verify(org)).toMatchObject({ ok: false, seq: 10 });
    await api.db.send(new PutCommand({ TableName: api.offline.config.tableName, Item: entries[9]! }));
    expect(await verify(org)).toMatchObject({ ok: true, entries: 31 });
  });
});
