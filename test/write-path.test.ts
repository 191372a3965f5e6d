import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditPartition, auditRecordPartition, keys } from "../packages/core/src/data/keys.ts";
import { orgRegistryTable, tenantTable, type Table } from "../packages/core/src/data/tables.ts";
import { routes } from "../packages/core/src/routes/index.ts";
import type { ExecutionPort } from "../packages/core/src/deployments/ports.ts";
import type { RouteDef } from "../packages/core/src/routes/types.ts";
import { startTestApi, type TestApi } from "./support/api.ts";
import { homeOf, SAMPLE_SECRET, samples, sendSample, setOrgLimits, type SampleRequest } from "./support/samples.ts";

/**
 * One write path: every route that changes state commits its change and its audit record in one
 * transaction. Walked over the route table, so a new route is walked too. The transaction that
 * carries the route's record is watched on its way to DynamoDB Local, and the table at its keys is
 * read right before it is sent and again after the request, with the org's records, waiting or
 * sequenced. Deployments' executions are held, so nothing but the request writes those keys.
 * - A success lands every item of the transaction and exactly one record of the route, naming
 *   what changed (ids that the transaction's keys hold).
 * - A transaction that fails before it is sent leaves its keys as they were and no record of it.
 * - A transaction that commits but whose answer is lost (a timeout) leaves the change and exactly
 *   one record: nothing else is appended for the failed request.
 */
/** Deployments are created but their executions held, so no workflow writes beside the requests. */
const heldExecutions: ExecutionPort = { start: async (name) => ({ executionArn: `arn:aws:states:::execution:held:${name}` }), stop: async () => undefined };

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi({ workflows: { ports: { executions: heldExecutions } } });
  // The deployment samples start more deployments than the default limit lets run at once.
  await setOrgLimits(api, "acme", { concurrentDeployments: 1000 });
});
afterAll(() => api?.stop());

const changing = (routes as readonly RouteDef[]).filter((route) => route.method !== "GET");

type Item = Record<string, any>;
type Key = { PK: string; SK: string };
type Fault = "none" | "before-send" | "answer-lost";
/** One item of the watched transaction: what it does, what it puts, and the table's item at its key right before. */
type Watched = { kind: string; key: Key; put?: Item; before?: Item };

const RECORD_PREFIX = keys.auditRecordPrefix;
const keyText = (value: unknown): string => (typeof value === "string" ? value : String((value as { S?: string } | undefined)?.S));
const isRecord = (item: Watched) => item.key.SK.startsWith(RECORD_PREFIX);

async function tableAt(wanted: readonly Key[]): Promise<(Item | undefined)[]> {
  const dump = await api.dumpTable();
  return wanted.map((key) => dump.find((item) => item.PK === key.PK && item.SK === key.SK));
}

/**
 * Watches the handle's transactions: the one that carries an audit record is remembered, with
 * the table at its keys just before it is sent, and made to fail as `fault` says.
 */
function watch(table: Table, fault: Fault) {
  const seen: Watched[][] = [];
  const name = `watch-${seen.length}-${Math.random()}`;
  table.client.middlewareStack.add((next, context) => async (args: any) => {
    if (context.commandName !== "TransactWriteItemsCommand") return next(args);
    const items: Watched[] = (args.input.TransactItems as Record<string, any>[]).map((entry) => {
      const [kind, operation] = Object.entries(entry)[0] as [string, Record<string, any>];
      const source = operation.Item ?? operation.Key;
      return { kind, key: { PK: keyText(source.PK), SK: keyText(source.SK) }, put: operation.Item };
    });
    if (!items.some((item) => item.kind === "Put" && isRecord(item))) return next(args);
    const before = await tableAt(items.map((item) => item.key));
    seen.push(items.map((item, i) => ({ ...item, before: before[i] })));
    if (fault === "before-send") throw Object.assign(new Error("injected: the connection dropped"), { name: "NetworkingError" });
    const result = await next(args);
    if (fault === "answer-lost") throw Object.assign(new Error("injected: no answer in time"), { name: "TimeoutError" });
    return result;
  }, { step: "initialize", name });
  return { seen, stop: () => table.client.middlewareStack.remove(name) };
}

/** The org whose log records the route: the host org, or the org a platform route names. */
function orgOf(route: RouteDef, sample: SampleRequest): string {
  if (route.host === "org") return "acme";
  const body = sample.body as Record<string, unknown> | undefined;
  return typeof body?.slug === "string" ? body.slug : sample.path.split("/")[3]!;
}

/** The handle a route's change is written through (data/tables.ts). */
const tableOf = (route: RouteDef, org: string): Table => (route.host === "org" ? tenantTable(org) : orgRegistryTable(org));

/**
 * Every record of the org's log, by id, waiting or sequenced: the waiting ones are read first, so
 * a record the sequencer moves in between is met among the sequenced entries.
 */
async function recordsOf(org: string): Promise<Map<string, Item>> {
  const waiting = await api.partition(auditRecordPartition(org));
  const sequenced = (await api.partition(auditPartition(org))).filter((item) => String(item.SK).startsWith(keys.auditEntryPrefix));
  return new Map([...waiting, ...sequenced].map((record) => [record.id as string, record]));
}

/** Calls the route's sample as its own principal, watching its transaction; returns what landed. */
async function run(route: RouteDef, fault: Fault) {
  const sample = await samples[route.id as keyof typeof samples](api, "acme");
  const org = orgOf(route, sample);
  const recordsBefore = await recordsOf(org);
  const watched = watch(tableOf(route, org), fault);
  let reply;
  try {
    const { host, credential } = homeOf(api, route);
    reply = await sendSample(api, route, sample, host, credential);
  } finally {
    watched.stop();
  }
  expect(watched.seen, `${route.id}: one transaction carries a record`).toHaveLength(1);
  const transaction = watched.seen[0]!;
  const recordId = transaction.find((item) => isRecord(item))!.key.SK.slice(RECORD_PREFIX.length);
  const change = transaction.filter((item) => !isRecord(item));
  const after = await tableAt(change.map((item) => item.key));
  const added = [...(await recordsOf(org)).values()].filter((record) => !recordsBefore.has(record.id));
  return { reply, recordId, change: change.map((item, i) => ({ ...item, after: after[i] })), ofRoute: added.filter((entry) => entry.action === route.id) };
}

const label = (item: Watched) => `${item.kind} ${item.key.PK} ${item.key.SK}`;

/**
 * A KEK rotation's own bookkeeping on the app item, written outside its change by design: the
 * lease that keeps two rotations apart (released when the run ends, whatever happened), and the
 * promotion's intent, written before the key store's promotion so that a crash is repaired.
 */
const ROTATION_BOOKKEEPING = ["rotationLease", "kekPromotion"];
const withoutBookkeeping = (item: Item | undefined) => item && Object.fromEntries(Object.entries(item).filter(([name]) => !ROTATION_BOOKKEEPING.includes(name)));
const scalars = (item: Item) => Object.fromEntries(Object.entries(item).filter(([, value]) => typeof value === "string" || typeof value === "number"));

/** Each item is as the transaction left it: put, deleted, or changed by its update; a check changes nothing. */
function expectLanded(change: (Watched & { after?: Item })[]) {
  for (const item of change) {
    if (item.kind === "Put") expect(item.after, label(item)).toMatchObject(scalars(item.put!));
    else if (item.kind === "Delete") expect(item.after, label(item)).toBeUndefined();
    else if (item.kind === "Update") expect(item.after, label(item)).not.toEqual(item.before);
    else expect(item.after, label(item)).toEqual(item.before);
  }
}

describe.each(changing.map((route) => [route.id, route] as const))("%s", (_id, route) => {
  it("commits its change and exactly one record naming it, together", async () => {
    const { reply, recordId, change, ofRoute } = await run(route, "none");
    expect(reply.status, reply.text).toBe(route.status);
    expectLanded(change);
    expect(ofRoute.map((entry) => entry.id)).toEqual([recordId]);
    const record = ofRoute[0]!;
    expect(record.outcome).toEqual({ result: "ok", status: route.status });
    // The record names what changed: every id it names is held by a key the transaction wrote.
    const keysWritten = change.filter((item) => item.kind !== "ConditionCheck").map((item) => `${item.key.PK}#${item.key.SK}`).join(" ");
    const named = Object.values(record.target as Record<string, string>);
    expect(named.length).toBeGreaterThan(0);
    expect(named.some((value) => keysWritten.includes(value)), `${JSON.stringify(record.target)} in ${keysWritten}`).toBe(true);
    expect(JSON.stringify(record)).not.toContain(SAMPLE_SECRET);
  });

  it("fails before it is sent: its keys as they were, and no record of it", async () => {
    const { reply, recordId, change, ofRoute } = await run(route, "before-send");
    expect(reply.status, reply.text).toBe(500);
    for (const item of change) expect(withoutBookkeeping(item.after), label(item)).toEqual(withoutBookkeeping(item.before));
    expect(ofRoute).toEqual([]);
    expect(recordId).toBeTruthy();
  });

  it("commits but its answer is lost: the change, and exactly its one record", async () => {
    const { reply, recordId, change, ofRoute } = await run(route, "answer-lost");
    expect(reply.status, reply.text).toBe(500);
    expectLanded(change);
    expect(ofRoute.map((entry) => entry.id)).toEqual([recordId]);
  });
});
