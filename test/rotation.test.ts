import { DynamoDBDocumentClient, GetCommand, QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createApp } from "../packages/core/src/apps/index.ts";
import type { CredentialScope } from "../packages/core/src/data/keys.ts";
import { KeyStoreStandIn } from "../packages/core/src/key-stores/key-store-stand-in.ts";
import { stagesOf, type KeyStore } from "../packages/core/src/key-stores/key-store.ts";
import { rotateAppKek, type RotationOptions } from "../packages/core/src/credentials/rotation/app.ts";
import { runKeyRotation } from "../packages/core/src/credentials/rotation/job.ts";
import { putCredential, readCredentialValue, type CredentialTarget } from "../packages/core/src/credentials/service.ts";
import { appPartition, keys } from "../packages/core/src/data/keys.ts";
import { tenantTable, type TenantTable } from "../packages/core/src/data/tables.ts";
import { logger } from "../packages/core/src/log.ts";
import { localClient } from "../packages/local/src/dynamodb.ts";
import { startTestApi, type TestApi } from "./support/api.ts";
import { overriding } from "./support/key-stores.ts";
import { pendingAudit } from "../packages/core/src/audit/chain.ts";

const writerAudit = () => pendingAudit({ actor: { kind: "system", sub: "test" }, action: "credentials.put", requestId: "test" });

let api: TestApi;
let db: DynamoDBDocumentClient;
let store: KeyStoreStandIn;
beforeAll(async () => {
  api = await startTestApi();
  db = DynamoDBDocumentClient.from(localClient(api.offline.dynamoEndpoint));
  store = new KeyStoreStandIn(api.offline.keyStoreDirectory);
});
afterAll(() => api?.stop());

const DAY = 86_400_000;
const MINUTE = 60_000;
const settings = { rotationDays: 30, graceMs: 15 * MINUTE, leaseMs: 5 * MINUTE, concurrency: 4 };
const at = (offsetMs: number) => new Date(Date.now() + offsetMs);
const acme = () => tenantTable("acme");

type Seeded = { app: string; values: Map<CredentialTarget, string> };

/** An app with `count` credentials, half system-level and half user-level. */
async function seedApp(count = 4, table: TenantTable = acme()): Promise<Seeded> {
  const { id: app } = await createApp(table, store, { name: "rotating" }, pendingAudit({ actor: { kind: "system", sub: "test" }, action: "apps.create", requestId: "test" }));
  const values = new Map<CredentialTarget, string>();
  for (let i = 0; i < count; i++) {
    const scope: CredentialScope = i % 2 ? { kind: "user", sub: `user-${i}` } : { kind: "system" };
    const target = { app, scope, name: `cred-${i}` };
    const value = `value-${app}-${i}`;
    await putCredential(table, store, target, { value }, writerAudit());
    values.set(target, value);
  }
  return { app, values };
}

const items = async (app: string, org = "acme") =>
  (await db.send(new QueryCommand({
    TableName: api.offline.config.tableName,
    KeyConditionExpression: "PK = :pk AND begins_with(SK, :cred)",
    ExpressionAttributeValues: { ":pk": appPartition(org, app), ":cred": "CRED#" },
    ConsistentRead: true,
  }))).Items ?? [];

const appItem = async (app: string) =>
  (await db.send(new GetCommand({ TableName: api.offline.config.tableName, Key: keys.app("acme", app), ConsistentRead: true }))).Item!;

const stages = async (app: string) => stagesOf(await store.describe({ org: "acme", app }));

/** Every credential decrypts to its value, and every DEK is wrapped by a version the store still has. */
async function expectIntact({ app, values }: Seeded, table: TenantTable = acme()) {
  for (const [target, value] of values) {
    expect((await readCredentialValue(table, store, target)).value).toBe(value);
  }
  const live = new Set((await store.describe({ org: table.org, app })).map((v) => v.id));
  for (const item of await items(app, table.org)) expect(live, `DEK of ${item.SK} references a deleted version`).toContain(item.kekVersion);
}

const rotate = (app: string, options: RotationOptions, keyStore: KeyStore = store, table: TenantTable = acme()) =>
  rotateAppKek(table, keyStore, app, { settings, ...options });

describe("rotating one app's KEK", () => {
  it("re-wraps every DEK under a new version and leaves every ciphertext untouched", async () => {
    const seeded = await seedApp(6);
    const before = await stages(seeded.app);
    const sealedBefore = (await items(seeded.app)).map(({ SK, ciphertext, nonce, tag, sealedKekVersion, wrappedDek }) => ({ SK, ciphertext, nonce, tag, sealedKekVersion, wrappedDek }));

    const result = await rotate(seeded.app, { now: at(31 * DAY) });
    expect(result).toMatchObject({ outcome: "rotated", rewrapped: 6, retired: 0 });
    const after = await stages(seeded.app);
    expect(after.current).not.toBe(before.current);
    expect(after).toEqual({ current: result.kekVersion, pending: undefined, previous: before.current });

    const sealedAfter = await items(seeded.app);
    for (const old of sealedBefore) {
      const now = sealedAfter.find((item) => item.SK === old.SK)!;
      expect(now.kekVersion).toBe(after.current);
      expect(Buffer.from(now.wrappedDek).equals(Buffer.from(old.wrappedDek))).toBe(false);
      for (const field of ["ciphertext", "nonce", "tag"] as const) expect(Buffer.from(now[field]).equals(Buffer.from(old[field]))).toBe(true);
      expect(now.sealedKekVersion).toBe(old.sealedKekVersion);
    }
    expect((await appItem(seeded.app)).kekRotatedAt).toBe(result.kekRotatedAt);
    await expectIntact(seeded);
  });

  it("keeps the previous version through its grace period, then retires it", async () => {
    const seeded = await seedApp();
    const original = (await stages(seeded.app)).current;
    await rotate(seeded.app, { now: at(31 * DAY) });
    const inGrace = await rotate(seeded.app, { now: at(31 * DAY + MINUTE) });
    expect(inGrace).toMatchObject({ outcome: "current", retired: 0 });
    expect((await stages(seeded.app)).previous).toBe(original);

    const after = await rotate(seeded.app, { now: at(31 * DAY + 20 * MINUTE) });
    expect(after).toMatchObject({ outcome: "current", retired: 1 });
    expect((await store.describe({ org: "acme", app: seeded.app })).map((v) => v.id)).toEqual([after.kekVersion]);
    await expect(store.version({ org: "acme", app: seeded.app }, original)).rejects.toThrow();
    await expectIntact(seeded);
  });

  it("does nothing to an app that is not due", async () => {
    const seeded = await seedApp(2);
    const before = await stages(seeded.app);
    expect(await rotate(seeded.app, { now: at(29 * DAY) })).toMatchObject({ outcome: "current", rewrapped: 0 });
    expect(await stages(seeded.app)).toEqual(before);
  });

  it("sweeps a DEK written under the previous version by a slow writer before letting that version go", async () => {
    const seeded = await seedApp(2);
    await rotate(seeded.app, { now: at(31 * DAY) });
    const { previous } = await stages(seeded.app);
    // A writer that read the old current version just before the promotion commits now.
    const slowWriter = overriding(store, { current: (ref) => store.version(ref, previous!) });
    const late = { app: seeded.app, scope: { kind: "system" } as const, name: "written-late" };
    await putCredential(acme(), slowWriter, late, { value: "late-value" }, writerAudit());
    seeded.values.set(late, "late-value");
    expect((await items(seeded.app)).find((i) => i.name === "written-late")!.kekVersion).toBe(previous);

    const swept = await rotate(seeded.app, { now: at(31 * DAY + 20 * MINUTE) });
    expect(swept).toMatchObject({ outcome: "current", rewrapped: 1, retired: 1 });
    await expectIntact(seeded);
  });

  it("defers a forced rotation while the previous version is in its grace period", async () => {
    const seeded = await seedApp(2);
    await rotate(seeded.app, { now: at(0), force: true });
    const again = await rotate(seeded.app, { now: at(MINUTE), force: true });
    expect(again.outcome).toBe("deferred");
    expect(Date.parse(again.deferredUntil!)).toBeGreaterThan(Date.now() + 13 * MINUTE);
    const later = await rotate(seeded.app, { now: at(20 * MINUTE), force: true });
    expect(later).toMatchObject({ outcome: "rotated", retired: 1 });
    await expectIntact(seeded);
  });

  it("answers gone for a deleted app", async () => {
    const seeded = await seedApp(1);
    await api.call(api.orgHost("acme"), "DELETE", `/v1/apps/${seeded.app}`, { token: api.tokens.member("acme", "admin") });
    expect((await rotate(seeded.app, { force: true })).outcome).toBe("gone");
  });
});

describe("forced rotation through the API", () => {
  it("rotates, keeps every credential readable by the runtime, and says when it may run again", async () => {
    const host = api.orgHost("acme");
    const admin = api.tokens.member("acme", "admin");
    const created = await api.call(host, "POST", "/v1/apps", { token: admin, body: { name: "api-rotated" } });
    const app = created.json.id as string;
    await api.call(host, "PUT", `/v1/apps/${app}/credentials/db`, { token: admin, body: { value: "db-secret" } });
    await api.call(host, "PUT", `/v1/apps/${app}/users/alice/credentials/oauth`, { token: admin, body: { value: "alice-secret" } });
    const before = await stages(app);

    const reply = await api.call(host, "POST", `/v1/apps/${app}/rotate`, { token: admin });
    expect(reply.status, reply.text).toBe(200);
    expect(reply.json).toEqual({ app, outcome: "rotated", kekVersion: expect.any(String), kekRotatedAt: expect.any(String), rewrapped: 2, retired: 0 });
    expect(reply.json.kekVersion).not.toBe(before.current);
    expect(await stages(app)).toMatchObject({ current: reply.json.kekVersion, previous: before.current });

    const runtime = api.tokens.runtime("acme", app);
    expect((await api.call(host, "GET", "/v1/runtime/credentials/db", { token: runtime })).json.value).toBe("db-secret");
    expect((await api.call(host, "GET", "/v1/runtime/users/alice/credentials/oauth", { token: runtime })).json.value).toBe("alice-secret");

    const again = await api.call(host, "POST", `/v1/apps/${app}/rotate`, { token: admin });
    expect(again.status).toBe(409);
    expect(again.json).toMatchObject({ type: "urn:bulkhead:problem:rotation-deferred", retryAfter: expect.any(String) });
    expect((await api.call(host, "POST", `/v1/apps/${"z".repeat(26)}/rotate`, { token: admin })).status).toBe(404);
  });
});

/** Counts every key-store call and DynamoDB command; the `failAt`-th throws, before or after it took effect. */
function faulty(failAt: number, mode: "before" | "after") {
  let steps = 0;
  const step = async <T>(work: () => Promise<T>): Promise<T> => {
    const n = ++steps;
    if (n === failAt && mode === "before") throw new Error(`injected fault before step ${n}`);
    const result = await work();
    if (n === failAt && mode === "after") throw new Error(`injected fault after step ${n}`);
    return result;
  };
  const methods = ["create", "current", "version", "destroy", "describe", "createPending", "promote", "retire"] as const;
  const keyStore = overriding(store, Object.fromEntries(methods.map((m) => [m, (...args: unknown[]) => step(() => (store[m] as (...a: unknown[]) => Promise<unknown>)(...args))])));
  const table = acme();
  const client = { send: (command: never) => step(() => table.client.send(command)) };
  return { keyStore, table: { ...table, client } as unknown as TenantTable, steps: () => steps };
}

describe("a rotation killed at any step converges when run again", () => {
  // More DEKs than one re-wrap transaction holds (25), so a fault can fall between two of them.
  const CREDENTIALS = 27;

  it("counts the steps of a clean forced rotation", async () => {
    const seeded = await seedApp(CREDENTIALS);
    const clean = faulty(0, "before");
    expect((await rotate(seeded.app, { force: true }, clean.keyStore, clean.table)).outcome).toBe("rotated");
    expect(clean.steps()).toBeGreaterThan(15);
  });

  for (const mode of ["before", "after"] as const) {
    it(`converges after a fault ${mode} every step`, { timeout: 180_000 }, async () => {
      const probe = await seedApp(CREDENTIALS);
      const counter = faulty(0, mode);
      await rotate(probe.app, { force: true }, counter.keyStore, counter.table);
      const total = counter.steps();

      for (let n = 1; n <= total; n++) {
        const seeded = await seedApp(CREDENTIALS);
        const original = (await stages(seeded.app)).current;
        const broken = faulty(n, mode);
        await expect(rotate(seeded.app, { force: true, now: at(0) }, broken.keyStore, broken.table), `step ${n}`).rejects.toThrow(/injected fault|could not be re-wrapped/);
        await expectIntact(seeded);

        // Run again once any lease the crash left has expired: it finishes or has nothing to do.
        const rerun = await rotate(seeded.app, { force: true, now: at(settings.leaseMs + MINUTE) });
        expect(["rotated", "resumed", "deferred"], `step ${n}: ${rerun.outcome}`).toContain(rerun.outcome);
        const after = await stages(seeded.app);
        expect(after.current, `step ${n}: the KEK advanced`).not.toBe(original);
        expect(after.pending, `step ${n}: no rotation left pending`).toBeUndefined();
        for (const item of await items(seeded.app)) expect(item.kekVersion, `step ${n}: ${item.SK}`).toBe(after.current);
        await expectIntact(seeded);

        // And once the grace period is over, the old version goes and nothing needed it.
        const settled = await rotate(seeded.app, { now: at(settings.leaseMs + settings.graceMs + 2 * MINUTE) });
        expect(settled.outcome).toBe("current");
        expect((await store.describe({ org: "acme", app: seeded.app })).map((v) => v.id)).toEqual([after.current]);
        await expectIntact(seeded);
      }
    });
  }
});

describe("credentials written while a rotation runs", () => {
  it("a credential replaced between the read and the re-wrap keeps its new value and ends under the new version", async () => {
    const seeded = await seedApp(6);
    const [target] = seeded.values.keys();
    const table = acme();
    let replaced = false;
    const racing = {
      ...table,
      client: {
        send: async (command: { constructor: { name: string } }) => {
          if (!replaced && command.constructor.name === "TransactWriteCommand") {
            replaced = true; // the first re-wrap transaction finds one of its items changed
            await putCredential(table, store, target!, { value: "replaced-mid-rotation" }, writerAudit());
          }
          return table.client.send(command as never);
        },
      },
    } as unknown as TenantTable;
    const result = await rotate(seeded.app, { force: true }, store, racing);
    expect(replaced).toBe(true);
    expect(result).toMatchObject({ outcome: "rotated", rewrapped: 6 });
    seeded.values.set(target!, "replaced-mid-rotation");
    for (const item of await items(seeded.app)) expect(item.kekVersion).toBe(result.kekVersion);
    await expectIntact(seeded);
  });
});

describe("two rotations at once", () => {
  it("of the same app: one rotates, the other stands aside, nothing is corrupted", async () => {
    const seeded = await seedApp(8);
    const original = (await stages(seeded.app)).current;
    const results = await Promise.all([rotate(seeded.app, { force: true }), rotate(seeded.app, { force: true })]);
    const outcomes = results.map((r) => r.outcome).sort();
    expect(outcomes.filter((o) => o === "rotated")).toHaveLength(1);
    expect(["busy", "deferred"]).toContain(outcomes.find((o) => o !== "rotated"));
    expect((await stages(seeded.app)).previous).toBe(original); // advanced exactly once
    await expectIntact(seeded);
  });

  it("a job whose lease was taken over stops at its next step without corrupting anything", async () => {
    const seeded = await seedApp(4);
    let resume!: () => void;
    const paused = new Promise<void>((resolve) => (resume = resolve));
    let reached!: () => void;
    const atPause = new Promise<void>((resolve) => (reached = resolve));
    const stalling = overriding(store, {
      describe: async (ref) => {
        reached();
        await paused;
        return store.describe(ref);
      },
    });
    const stale = rotate(seeded.app, { force: true, now: at(0) }, stalling);
    await atPause;
    // The first job's lease has expired by the second job's clock: it takes the app over.
    expect((await rotate(seeded.app, { force: true, now: at(settings.leaseMs + MINUTE) })).outcome).toBe("rotated");
    resume();
    await expect(stale).rejects.toThrow();
    await expectIntact(seeded);
    expect((await stages(seeded.app)).pending).toBeUndefined();
  });

  it("two whole jobs over the same due apps rotate each app once", async () => {
    const apps = await Promise.all([seedApp(3), seedApp(3), seedApp(3), seedApp(3)]);
    const originals = await Promise.all(apps.map(async (a) => (await stages(a.app)).current));
    const when = at(400 * DAY);
    const [first, second] = await Promise.all([
      runKeyRotation(store, { now: when, settings }),
      runKeyRotation(store, { now: when, settings }),
    ]);
    expect(first.failed + second.failed).toBe(0);
    for (const [i, seeded] of apps.entries()) {
      expect((await stages(seeded.app)).previous, "advanced exactly once").toBe(originals[i]);
      await expectIntact(seeded);
    }
  });
});

describe("the scheduled job", () => {
  it("finds due apps through the index, rotates them, and logs its counts", async () => {
    const info = vi.spyOn(logger, "info");
    const apps = await Promise.all([seedApp(2), seedApp(2)]);
    const summary = await runKeyRotation(store, { now: at(800 * DAY), settings });
    expect(summary.due).toBeGreaterThanOrEqual(2);
    expect(summary.rotated).toBe(summary.due - summary.gone);
    expect(summary.failed).toBe(0);
    expect(summary.rewrapped).toBeGreaterThanOrEqual(4);
    for (const seeded of apps) await expectIntact(seeded);
    expect(info).toHaveBeenCalledWith("KEK rotation job finished", expect.objectContaining({
      due: summary.due, rotated: summary.rotated, failed: 0, rewrapped: summary.rewrapped, durationMs: expect.any(Number),
    }));
    // Nothing is due a moment later.
    expect((await runKeyRotation(store, { now: at(800 * DAY + 20 * MINUTE), settings })).due).toBe(0);
    info.mockRestore();
  });

  it("logs and counts one app's failure and rotates the others", async () => {
    const error = vi.spyOn(logger, "error");
    const healthy = await seedApp(2);
    const broken = await seedApp(2);
    // Damage one wrapped DEK: that app cannot be re-wrapped, so its rotation must fail, not lose data.
    const [victim] = await items(broken.app);
    await db.send(new UpdateCommand({
      TableName: api.offline.config.tableName,
      Key: { PK: victim!.PK, SK: victim!.SK },
      UpdateExpression: "SET wrappedDek = :w",
      ExpressionAttributeValues: { ":w": Buffer.alloc(60, 1) },
    }));
    const summary = await runKeyRotation(store, { now: at(1200 * DAY), settings });
    expect(summary.failed).toBe(1);
    expect(summary.rotated).toBe(summary.due - 1 - summary.gone);
    expect(error).toHaveBeenCalledWith("KEK rotation failed", expect.objectContaining({ org: "acme", app: broken.app }));
    await expectIntact(healthy);
    const undamaged = [...broken.values].filter(([target]) => target.name !== victim!.name);
    await expectIntact({ app: broken.app, values: new Map(undamaged) });
    error.mockRestore();
  });
});
