import { randomBytes, randomUUID } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";

// Before any module creates the logger: log at DEBUG, and ask Powertools to log whole events
// (which carry bearer tokens and credential values). The handler stack must refuse the latter.
vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = "DEBUG";
  process.env.POWERTOOLS_LOGGER_LOG_EVENT = "true";
});

import { createApp, deleteApp } from "../packages/core/src/apps/index.ts";
import { KeyStoreStandIn } from "../packages/core/src/key-stores/key-store-stand-in.ts";
import { isRatePartition, keys } from "../packages/core/src/data/keys.ts";
import { tenantTable } from "../packages/core/src/data/tables.ts";
import { logger } from "../packages/core/src/log.ts";
import { localClient } from "../packages/local/src/dynamodb.ts";
import { startTestApi, type CallOptions, type Reply, type TestApi } from "./support/api.ts";
import { pendingAudit } from "../packages/core/src/audit/chain.ts";

const systemAudit = (action: string) => pendingAudit({ actor: { kind: "system", sub: "test" }, action, requestId: "test" });
import { overriding } from "./support/key-stores.ts";

let api: TestApi;
let db: DynamoDBDocumentClient;
let keyStoreDir: string;
const host = "acme.localhost";
const owner = () => api.tokens.member("acme", "owner");

/** Every plaintext this file stores: at the end none may be found anywhere but runtime replies. */
const plaintexts = new Set<string>();
const secret = (label: string): string => {
  const value = `plaintext-${label}-${randomBytes(6).toString("hex")}`;
  plaintexts.add(value);
  return value;
};

/** All process output while the file runs: the Powertools logger writes JSON lines to stdout. */
const output: string[] = [];
const streams = [process.stdout, process.stderr] as const;
const originalWrites = streams.map((stream) => stream.write);

beforeAll(async () => {
  for (const stream of streams) {
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      output.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
      const done = rest.find((arg) => typeof arg === "function") as (() => void) | undefined;
      done?.();
      return true;
    }) as typeof stream.write;
  }
  logger.setLogLevel("DEBUG");
  api = await startTestApi();
  db = DynamoDBDocumentClient.from(localClient(api.offline.dynamoEndpoint));
  keyStoreDir = api.offline.keyStoreDirectory;
});
afterAll(async () => {
  streams.forEach((stream, i) => (stream.write = originalWrites[i]!));
  await api?.stop();
});

const call = (method: string, path: string, options: CallOptions = {}) => api.call(host, method, path, { token: owner(), ...options });

async function newApp(org = "acme"): Promise<string> {
  const reply = await api.call(`${org}.localhost`, "POST", "/v1/apps", { token: api.tokens.member(org, "owner"), body: { name: "creds" } });
  expect(reply.status, reply.text).toBe(201);
  return reply.json.id;
}

const systemPath = (app: string, name: string) => `/v1/apps/${app}/credentials/${name}`;
const userPath = (app: string, sub: string, name: string) => `/v1/apps/${app}/users/${sub}/credentials/${name}`;
const runtimeRead = (app: string, name: string, sub?: string, org = "acme") =>
  api.call(`${org}.localhost`, "GET", sub ? `/v1/runtime/users/${sub}/credentials/${name}` : `/v1/runtime/credentials/${name}`, {
    token: api.tokens.runtime(org, app),
  });

function expectIntegrityProblem(reply: Reply, value: string) {
  expect(reply.status, reply.text).toBe(500);
  expect(reply.headers["content-type"]).toBe("application/problem+json");
  expect(reply.json.type).toBe("urn:bulkhead:problem:credential-integrity");
  expect(reply.text).not.toContain(value);
}

const credentialItem = async (app: string, scope: { kind: "system" } | { kind: "user"; sub: string }, name: string) =>
  (await db.send(new GetCommand({ TableName: api.offline.config.tableName, Key: keys.credential("acme", app, scope, name) }))).Item!;

describe("storing and reading credentials", () => {
  it("round-trips a system credential: metadata to humans, the value only to the app's runtime", async () => {
    const app = await newApp();
    const value = secret("system");
    const put = await call("PUT", systemPath(app, "database-url"), { body: { value, description: "primary database" } });
    expect(put.status, put.text).toBe(200);
    expect(put.json).toEqual({
      name: "database-url", scope: "system", description: "primary database", version: 1,
      createdAt: expect.any(String), updatedAt: expect.any(String),
    });
    expect(put.text).not.toContain(value);

    const listed = await call("GET", `/v1/apps/${app}/credentials`, { token: api.tokens.member("acme", "viewer") });
    expect(listed.status).toBe(200);
    expect(listed.json.items).toEqual([put.json]);
    expect(listed.text).not.toContain(value);

    const read = await runtimeRead(app, "database-url");
    expect(read.status, read.text).toBe(200);
    expect(read.json).toEqual({ ...put.json, value });
    expect(read.headers["cache-control"]).toBe("no-store");
  });

  it("round-trips a user credential under the subject's own scope", async () => {
    const app = await newApp();
    const alice = secret("alice");
    const bob = secret("bob");
    expect((await call("PUT", userPath(app, "alice", "oauth"), { body: { value: alice } })).status).toBe(200);
    expect((await call("PUT", userPath(app, "bob", "oauth"), { body: { value: bob } })).status).toBe(200);
    expect((await runtimeRead(app, "oauth", "alice")).json).toMatchObject({ name: "oauth", scope: "user", sub: "alice", value: alice });
    expect((await runtimeRead(app, "oauth", "bob")).json.value).toBe(bob);
    // A user credential is not the system credential of the same name.
    expect((await runtimeRead(app, "oauth")).status).toBe(404);
    const listed = await call("GET", `/v1/apps/${app}/credentials`);
    expect(listed.json.items.map((c: { sub?: string; scope: string }) => `${c.scope}:${c.sub}`).sort()).toEqual(["user:alice", "user:bob"]);
  });

  it("replaces a credential: a new version, the same createdAt, the new value", async () => {
    const app = await newApp();
    const first = await call("PUT", systemPath(app, "api-key"), { body: { value: secret("v1"), description: "old" } });
    const latest = secret("v2");
    const second = await call("PUT", systemPath(app, "api-key"), { body: { value: latest } });
    expect(second.json).toMatchObject({ version: 2, createdAt: first.json.createdAt });
    expect(second.json.description).toBeUndefined();
    expect((await runtimeRead(app, "api-key")).json).toMatchObject({ version: 2, value: latest });
  });

  it("keeps multi-byte values and values of exactly 32 KiB intact", async () => {
    const app = await newApp();
    const unicode = `${secret("unicode")}-pässwörd-✓-🔑`;
    plaintexts.add(unicode);
    const big = `${secret("big")}-`.padEnd(32 * 1024, "x");
    plaintexts.add(big);
    expect((await call("PUT", systemPath(app, "unicode"), { body: { value: unicode } })).status).toBe(200);
    expect((await call("PUT", systemPath(app, "big"), { body: { value: big } })).status).toBe(200);
    expect((await runtimeRead(app, "unicode")).json.value).toBe(unicode);
    expect((await runtimeRead(app, "big")).json.value).toBe(big);
  });

  it("deletes system and user credentials", async () => {
    const app = await newApp();
    await call("PUT", systemPath(app, "gone"), { body: { value: secret("gone") } });
    await call("PUT", userPath(app, "carol", "gone"), { body: { value: secret("gone-user") } });
    expect((await call("DELETE", systemPath(app, "gone"))).status).toBe(204);
    expect((await call("DELETE", userPath(app, "carol", "gone"))).status).toBe(204);
    expect((await runtimeRead(app, "gone")).status).toBe(404);
    expect((await runtimeRead(app, "gone", "carol")).status).toBe(404);
    expect((await call("DELETE", systemPath(app, "gone"))).status).toBe(404);
    expect((await call("GET", `/v1/apps/${app}/credentials`)).json.items).toEqual([]);
  });

  it("commits every write and its audit entry in one transaction, and nothing else", async () => {
    const app = await newApp();
    const table = tenantTable("acme");
    const writes: { command: string; items: any[] }[] = [];
    table.client.middlewareStack.add((next, context) => async (args) => {
      const command = String(context.commandName);
      const items = (args.input as any).TransactItems ?? [];
      // The audit sequencer shares the org's handle: its writes (in the log's partitions only) are not the request's.
      const keyOf = (item: any) => Object.values(item)[0] as any;
      const sequencing = items.length > 0 && items.every((item: any) => /#AUDIT/.test(String((keyOf(item).Item ?? keyOf(item).Key)?.PK)));
      // Neither are the request-rate buckets' draws (limits/rate.ts): they come before the request's work.
      const rateDraw = isRatePartition((args.input as any).Key?.PK);
      if (!/^(Get|Query|BatchGet)/.test(command) && !sequencing && !rateDraw) writes.push({ command, items });
      return next(args);
    }, { step: "initialize", name: "recordWrites" });
    const entryOf = (items: any[]) => items.at(-1).Put.Item;
    try {
      expect((await call("PUT", systemPath(app, "audited"), { body: { value: secret("audited") } })).status).toBe(200);
      expect((await call("PUT", userPath(app, "carol", "audited"), { body: { value: secret("audited-user") } })).status).toBe(200);
      expect((await call("DELETE", systemPath(app, "audited"))).status).toBe(204);
      expect((await call("DELETE", userPath(app, "carol", "audited"))).status).toBe(204);
      expect(writes.map((write) => write.command)).toEqual(Array(4).fill("TransactWriteItemsCommand"));
      const [put, putUser, del, delUser] = writes.map((write) => write.items);
      // A new credential also counts in one shard of its app's quota; its deletion counts it out of that shard.
      expect(put!.map((item: any) => Object.keys(item)[0])).toEqual(["ConditionCheck", "Put", "Update", "Put"]);
      expect(put![1].Put.Item).toMatchObject(keys.credential("acme", app, { kind: "system" }, "audited"));
      const shard = put![1].Put.Item.quotaShard;
      expect(put![2].Update.Key).toEqual(keys.quotaShard(`ORG#acme#APP#${app}`, "CRED", shard));
      expect(entryOf(put!)).toMatchObject({ ...keys.auditRecord("acme", entryOf(put!).id), v: 2, action: "credentials.put", target: { appId: app, name: "audited" }, outcome: { result: "ok" } });
      expect(entryOf(putUser!)).toMatchObject({ action: "credentials.put-user", target: { appId: app, sub: "carol", name: "audited" } });
      expect(del!.map((item: any) => Object.keys(item)[0])).toEqual(["Delete", "Update", "Put"]);
      expect(del![0].Delete.Key).toEqual(keys.credential("acme", app, { kind: "system" }, "audited"));
      expect(del![1].Update).toMatchObject({ Key: keys.quotaShard(`ORG#acme#APP#${app}`, "CRED", shard), ExpressionAttributeValues: { ":minusOne": -1 } });
      expect(entryOf(del!)).toMatchObject({ action: "credentials.delete", target: { appId: app, name: "audited" } });
      expect(entryOf(delUser!)).toMatchObject({ action: "credentials.delete-user", target: { appId: app, sub: "carol", name: "audited" } });
    } finally {
      table.client.middlewareStack.remove("recordWrites");
    }
  });

  it("answers 404 for an app that does not exist or belongs to another org, writing nothing", async () => {
    const globexApp = await newApp("globex");
    const before = JSON.stringify(await api.dumpData());
    for (const app of ["z".repeat(26), globexApp]) {
      expect((await call("PUT", systemPath(app, "x"), { body: { value: secret("nowhere") } })).status).toBe(404);
      expect((await call("PUT", userPath(app, "owner-of-acme", "x"), { body: { value: secret("nowhere") } })).status).toBe(404);
      expect((await call("GET", `/v1/apps/${app}/credentials`)).status).toBe(404);
    }
    expect(JSON.stringify(await api.dumpData())).toBe(before);
  });

  it("pages the listing with cursors bound to the org and the app", async () => {
    const app = await newApp();
    const other = await newApp();
    for (let i = 0; i < 5; i++) await call("PUT", systemPath(app, `c${i}`), { body: { value: secret(`page${i}`) } });
    await call("PUT", systemPath(other, "o"), { body: { value: secret("other") } });
    const names: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await call("GET", `/v1/apps/${app}/credentials?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
      expect(page.status).toBe(200);
      names.push(...page.json.items.map((c: { name: string }) => c.name));
      cursor = page.json.cursor;
      if (cursor) {
        const elsewhere = await call("GET", `/v1/apps/${other}/credentials?cursor=${encodeURIComponent(cursor)}`);
        expect(elsewhere.status).toBe(400);
        expect(elsewhere.json.type).toBe("urn:bulkhead:problem:invalid-cursor");
      }
    } while (cursor);
    expect(names.sort()).toEqual(["c0", "c1", "c2", "c3", "c4"]);
  });
});

describe("who may write user-level credentials", () => {
  it("lets any member manage their own, and only admins and owners manage anyone's", async () => {
    const app = await newApp();
    const as = (role: "viewer" | "developer" | "admin" | "owner", sub: string) => api.tokens.member("acme", role, sub);
    const put = (token: string, sub: string) => call("PUT", userPath(app, sub, "pat"), { token, body: { value: secret(`${sub}-pat`) } });
    expect((await put(as("viewer", "vera"), "vera")).status).toBe(200);
    expect((await put(as("developer", "dev"), "dev")).status).toBe(200);
    for (const role of ["viewer", "developer"] as const) {
      const refused = await put(as(role, "mallory"), "vera");
      expect(refused.status).toBe(403);
      expect(refused.json.type).toBe("urn:bulkhead:problem:forbidden");
      expect((await call("DELETE", userPath(app, "vera", "pat"), { token: as(role, "mallory") })).status).toBe(403);
    }
    expect((await put(as("admin", "ada"), "vera")).status).toBe(200);
    expect((await put(as("owner", "otto"), "dev")).status).toBe(200);
    expect((await call("DELETE", userPath(app, "dev", "pat"), { token: as("developer", "dev") })).status).toBe(204);
    expect((await call("DELETE", userPath(app, "vera", "pat"), { token: as("admin", "ada") })).status).toBe(204);
  });

  it("keeps system credentials at developer and above", async () => {
    const app = await newApp();
    const refused = await call("PUT", systemPath(app, "x"), { token: api.tokens.member("acme", "viewer"), body: { value: secret("viewer") } });
    expect(refused.status).toBe(403);
  });
});

describe("integrity: a ciphertext or wrapped DEK moved anywhere else does not decrypt", () => {
  const sealedFields = ["ciphertext", "nonce", "tag", "wrappedDek", "kekVersion", "sealedKekVersion"] as const;

  /** Overwrites the sealed parts of `to` with `parts`, as someone with raw table access could. */
  async function overwrite(to: { app: string; scope: { kind: "system" } | { kind: "user"; sub: string }; name: string }, parts: Record<string, unknown>) {
    const names = Object.keys(parts);
    await db.send(new UpdateCommand({
      TableName: api.offline.config.tableName,
      Key: keys.credential("acme", to.app, to.scope, to.name),
      UpdateExpression: `SET ${names.map((n, i) => `#f${i} = :v${i}`).join(", ")}`,
      ExpressionAttributeNames: Object.fromEntries(names.map((n, i) => [`#f${i}`, n])),
      ExpressionAttributeValues: Object.fromEntries(names.map((n, i) => [`:v${i}`, parts[n]])),
    }));
  }

  const pick = (item: Record<string, unknown>, fields: readonly string[]) => Object.fromEntries(fields.map((f) => [f, item[f]]));

  it("refuses a copy to another credential, another scope, another app", async () => {
    const app = await newApp();
    const otherApp = await newApp();
    const source = secret("source");
    await call("PUT", systemPath(app, "source"), { body: { value: source } });
    const targets = [
      { what: "another credential", app, scope: { kind: "system" } as const, name: "target" },
      { what: "user scope", app, scope: { kind: "user", sub: "alice" } as const, name: "source" },
      { what: "another app", app: otherApp, scope: { kind: "system" } as const, name: "source" },
    ];
    const item = await credentialItem(app, { kind: "system" }, "source");
    for (const target of targets) {
      const path = target.scope.kind === "user" ? userPath(target.app, target.scope.sub, target.name) : systemPath(target.app, target.name);
      expect((await call("PUT", path, { body: { value: secret("target") } })).status).toBe(200);
      for (const fields of [sealedFields, ["ciphertext", "nonce", "tag"], ["wrappedDek", "kekVersion"]] as const) {
        await overwrite(target, pick(item, fields));
        const reply = await runtimeRead(target.app, target.name, target.scope.kind === "user" ? target.scope.sub : undefined);
        expectIntegrityProblem(reply, source);
      }
    }
    // The source itself is untouched and still reads.
    expect((await runtimeRead(app, "source")).json.value).toBe(source);
  });

  it("refuses a ciphertext whose KEK version was swapped for another app's, or one that does not exist", async () => {
    const app = await newApp();
    const otherApp = await newApp();
    const value = secret("kek-swap");
    await call("PUT", systemPath(app, "k"), { body: { value } });
    await call("PUT", systemPath(otherApp, "k"), { body: { value: secret("other-kek") } });
    const foreignVersion = (await credentialItem(otherApp, { kind: "system" }, "k")).kekVersion;
    for (const kekVersion of [foreignVersion, randomUUID(), "not-a-version"]) {
      await overwrite({ app, scope: { kind: "system" }, name: "k" }, { kekVersion });
      expectIntegrityProblem(await runtimeRead(app, "k"), value);
    }
  });

  it("refuses a truncated tag on the value and on the wrapped DEK, and a damaged item", async () => {
    const app = await newApp();
    const value = secret("truncate");
    await call("PUT", systemPath(app, "t"), { body: { value } });
    const item = await credentialItem(app, { kind: "system" }, "t");
    const damage: Record<string, unknown>[] = [
      { tag: Buffer.from(item.tag).subarray(0, 4) },
      { tag: Buffer.from(item.tag).subarray(0, 12) },
      { wrappedDek: Buffer.from(item.wrappedDek).subarray(0, 48) },
      { nonce: "not bytes" },
    ];
    for (const change of damage) {
      await overwrite({ app, scope: { kind: "system" }, name: "t" }, { ...pick(item, sealedFields), ...change });
      expectIntegrityProblem(await runtimeRead(app, "t"), value);
    }
    await overwrite({ app, scope: { kind: "system" }, name: "t" }, pick(item, sealedFields));
    expect((await runtimeRead(app, "t")).json.value).toBe(value);
  });
});

describe("app lifecycle: provisioning and crypto-shredding", () => {
  const storeFile = (app: string) => join(keyStoreDir, "acme", `${app}.json`);

  it("provisions one KEK per app, named and tagged for it", async () => {
    const app = await newApp();
    const saved = JSON.parse(readFileSync(storeFile(app), "utf8"));
    expect(saved).toMatchObject({
      name: `bulkhead/acme/${app}/kek`,
      tags: [{ Key: "org", Value: "acme" }, { Key: "app", Value: app }],
      versions: [{ stages: ["AWSCURRENT"] }],
    });
    expect(statSync(storeFile(app)).mode & 0o777).toBe(0o600);
  });

  it("deleting an app destroys its KEK and its credentials: nothing of it can be decrypted", async () => {
    const app = await newApp();
    const value = secret("shred");
    await call("PUT", systemPath(app, "db"), { body: { value } });
    await call("PUT", userPath(app, "alice", "db"), { body: { value: secret("shred-user") } });
    expect((await runtimeRead(app, "db")).json.value).toBe(value);

    expect((await call("DELETE", `/v1/apps/${app}`)).status).toBe(204);
    expect(existsSync(storeFile(app))).toBe(false);
    expect(await api.partition(`ORG#acme#APP#${app}`)).toEqual([]);
    expect((await runtimeRead(app, "db")).status).toBe(404);
    expect((await call("GET", `/v1/apps/${app}`)).status).toBe(404);
    expect((await call("PUT", systemPath(app, "db"), { body: { value: secret("after") } })).status).toBe(404);
  });

  it("a deletion interrupted after the shred leaves nothing decryptable, and a retry finishes it", async () => {
    const app = await newApp();
    const value = secret("interrupted");
    await call("PUT", systemPath(app, "db"), { body: { value } });
    const store = new KeyStoreStandIn(keyStoreDir);
    // Crash right after destroying the KEK: the items are still there.
    const crashAfterShred = overriding(store, {
      destroy: async (ref) => {
        await store.destroy(ref);
        throw new Error("crash after shred");
      },
    });
    await expect(deleteApp(tenantTable("acme"), crashAfterShred, app, systemAudit("apps.delete"))).rejects.toThrow("crash after shred");
    // The credential item is still there; the app's listing heads say it is being deleted.
    const left = (await api.partition(`ORG#acme#APP#${app}`)).filter((item) => !String(item.SK).startsWith("USAGE#"));
    expect(left.filter((item) => item.type === "credential")).toHaveLength(1);
    expect(left.filter((item) => item.type !== "credential")).toEqual(
      keys.appListingHeads("acme", app).map((key) => ({ ...key, type: "app-listing-head", appId: app, deletingSince: expect.any(String) })),
    );
    expectIntegrityProblem(await runtimeRead(app, "db"), value);
    // Marked deleting: invisible, and no credential can be written into it any more.
    expect((await call("GET", `/v1/apps/${app}`)).status).toBe(404);
    expect((await call("PUT", systemPath(app, "db"), { body: { value: secret("too-late") } })).status).toBe(404);

    expect((await call("DELETE", `/v1/apps/${app}`)).status).toBe(204);
    expect(await api.partition(`ORG#acme#APP#${app}`)).toEqual([]);
    expect((await api.partition("ORG#acme")).some((item) => item.SK === `APP#${app}`)).toBe(false);
  });

  it("a credential store that cannot be provisioned leaves no app behind", async () => {
    const failing = overriding(new KeyStoreStandIn(keyStoreDir), {
      create: async () => {
        throw new Error("key store unavailable");
      },
    });
    const before = JSON.stringify(await api.dumpData());
    await expect(createApp(tenantTable("acme"), failing, { name: "never" }, systemAudit("apps.create"))).rejects.toThrow("key store unavailable");
    expect(JSON.stringify(await api.dumpData())).toBe(before);
  });

  it("an app item that cannot be written leaves no credential store behind", async () => {
    const store = new KeyStoreStandIn(keyStoreDir);
    const created: string[] = [];
    const recording = overriding(store, {
      create: (ref, token) => {
        created.push(ref.app);
        return store.create(ref, token);
      },
    });
    const table = tenantTable("acme");
    // A handle on a table that does not exist: the app write fails after the KEK exists.
    const broken = { ...table, name: `missing-${randomUUID()}` };
    const before = JSON.stringify(await api.dumpData());
    await expect(createApp(broken, recording, { name: "half" }, systemAudit("apps.create"))).rejects.toThrow();
    expect(created).toHaveLength(1);
    expect(existsSync(storeFile(created[0]!))).toBe(false);
    expect(JSON.stringify(await api.dumpData())).toBe(before);
  });

  it("an app without a credential store (made before they existed) gets a clear 409, nothing written", async () => {
    const app = "q".repeat(26);
    await db.send(new PutCommand({ TableName: api.offline.config.tableName, Item: { ...keys.app("acme", app), type: "app", id: app, name: "legacy", createdAt: new Date().toISOString(), updatedAt: new Date().toISOString() } }));
    const before = JSON.stringify(await api.dumpData());
    const reply = await call("PUT", systemPath(app, "x"), { body: { value: secret("legacy") } });
    expect(reply.status).toBe(409);
    expect(reply.json.type).toBe("urn:bulkhead:problem:credential-store-missing");
    expect(JSON.stringify(await api.dumpData())).toBe(before);
  });
});

describe("bad input is a 4xx problem and writes nothing", () => {
  let app: string;
  let before: string;
  beforeAll(async () => {
    app = await newApp();
    await call("PUT", systemPath(app, "keep"), { body: { value: secret("keep") } });
  });

  async function refused(method: string, path: string, options: CallOptions, status: number) {
    before = JSON.stringify(await api.dumpData());
    const storesBefore = readdirSync(join(keyStoreDir, "acme")).sort();
    const reply = await call(method, path, options);
    expect(reply.status, `${method} ${path}: ${reply.text}`).toBe(status);
    expect(reply.headers["content-type"]).toBe("application/problem+json");
    expect(JSON.stringify(await api.dumpData())).toBe(before);
    expect(readdirSync(join(keyStoreDir, "acme")).sort()).toEqual(storesBefore);
    for (const value of plaintexts) expect(reply.text).not.toContain(value);
    return reply;
  }

  it("refuses bad names and subjects", async () => {
    const value = secret("bad-name");
    for (const name of ["n".repeat(129), "-leading", "has%23hash", "has%2Fslash", "sp%20ace", "%C3%A9", ".hidden"]) {
      await refused("PUT", systemPath(app, name), { body: { value } }, 400);
      await refused("PUT", userPath(app, name, "ok"), { body: { value } }, 400);
      await refused("GET", `/v1/runtime/credentials/${name}`, { token: api.tokens.runtime("acme", app) }, 400);
    }
  });

  it("refuses values that are empty, too large, not text or not well-formed", async () => {
    const tooBig = `${secret("too-big")}`.padEnd(32 * 1024 + 1, "y");
    plaintexts.add(tooBig);
    const multiByteTooBig = "é".repeat(16 * 1024 + 1); // 32 KiB + 2 bytes of UTF-8 in fewer characters
    for (const value of ["", 42, null, { nested: true }, ["a"]]) {
      await refused("PUT", systemPath(app, "keep"), { body: { value } }, 400);
    }
    // Over the org's value size (32 KiB by default), counted in bytes of UTF-8: 413 naming the limit.
    for (const value of [tooBig, multiByteTooBig]) {
      const reply = await refused("PUT", systemPath(app, "keep"), { body: { value } }, 413);
      expect(reply.json).toMatchObject({ type: "urn:bulkhead:problem:quota-exceeded", limit: "credentialValueBytes", max: 32 * 1024 });
    }
    await refused("PUT", systemPath(app, "keep"), { rawBody: '{"value":"\\ud800"}', headers: { "content-type": "application/json" } }, 400);
  });

  it("refuses missing values, unknown fields, malformed JSON and wrong content types", async () => {
    const value = secret("unknown-field");
    await refused("PUT", systemPath(app, "keep"), { body: {} }, 400);
    await refused("PUT", systemPath(app, "keep"), { body: { value, version: 9 } }, 400);
    await refused("PUT", systemPath(app, "keep"), { body: { value, kekVersion: randomUUID() } }, 400);
    const malformed = secret("malformed");
    await refused("PUT", systemPath(app, "keep"), { rawBody: `{"value":"${malformed}"`, headers: { "content-type": "application/json" } }, 422);
    await refused("PUT", systemPath(app, "keep"), { rawBody: `value=${value}`, headers: { "content-type": "text/plain" } }, 415);
    await refused("PUT", systemPath(app, "keep"), { body: { value: "v".repeat(70 * 1024) } }, 413);
  });

  it("left the stored credential as it was", async () => {
    expect((await runtimeRead(app, "keep")).json.version).toBe(1);
  });
});

describe("no plaintext anywhere but in runtime replies", () => {
  it("captured the whole suite's logs at DEBUG (so the checks below can fail)", () => {
    expect(logger.getLevelName()).toBe("DEBUG");
    const text = output.join("");
    expect(text).toContain('"message":"credential stored"');
    expect(text).toContain('"message":"credential sealed"');
    expect(text).toContain('"message":"credential integrity failure"');
    expect(text).toContain('"message":"request refused"');
    expect(plaintexts.size).toBeGreaterThan(30);
  });

  it("no plaintext in any log line, and no event was logged despite POWERTOOLS_LOGGER_LOG_EVENT", () => {
    const text = output.join("");
    for (const value of plaintexts) {
      expect(text.includes(value), "a plaintext value was logged").toBe(false);
      expect(text.includes(JSON.stringify(value).slice(1, -1)), "a JSON-escaped plaintext value was logged").toBe(false);
    }
    expect(text).not.toMatch(/"authorization"|Bearer ey/i);
    expect(text).not.toContain('"rawPath"');
  });

  it("no plaintext in the table, as text or inside any binary attribute", async () => {
    const items = await api.dumpTable();
    expect(items.some((item) => item.type === "credential")).toBe(true);
    const strings: string[] = [];
    const binaries: Buffer[] = [];
    const walk = (value: unknown): void => {
      if (typeof value === "string") strings.push(value);
      else if (value instanceof Uint8Array) binaries.push(Buffer.from(value));
      else if (value && typeof value === "object") Object.values(value).forEach(walk);
    };
    items.forEach(walk);
    for (const value of plaintexts) {
      expect(strings.some((s) => s.includes(value))).toBe(false);
      const bytes = Buffer.from(value);
      expect(binaries.some((b) => b.includes(bytes))).toBe(false);
    }
    for (const item of items.filter((i) => i.type === "credential")) {
      expect(Object.keys(item).sort()).toEqual(expect.arrayContaining(["ciphertext", "nonce", "tag", "wrappedDek", "kekVersion", "sealedKekVersion"]));
      expect(item).not.toHaveProperty("value");
    }
  });

  it("no plaintext in the key store's files", () => {
    const files = readdirSync(keyStoreDir, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile());
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const text = readFileSync(join(file.parentPath, file.name), "utf8");
      for (const value of plaintexts) expect(text.includes(value)).toBe(false);
    }
  });
});
