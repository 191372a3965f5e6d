import { DeleteCommand } from "@aws-sdk/lib-dynamodb";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deleteApp } from "../packages/core/src/apps/index.ts";
import { pendingAudit } from "../packages/core/src/audit/chain.ts";
import { KeyStoreStandIn } from "../packages/core/src/key-stores/key-store-stand-in.ts";
import { APP_LISTINGS, keys } from "../packages/core/src/data/keys.ts";
import { tenantTable } from "../packages/core/src/data/tables.ts";
import { createDeployment } from "../packages/core/src/deployments/records.ts";
import { transition } from "../packages/core/src/deployments/transitions.ts";
import { startTestApi, type Reply, type TestApi } from "./support/api.ts";
import { commandsSent } from "./support/commands.ts";
import { overriding } from "./support/key-stores.ts";
import { systemAudit } from "./support/samples.ts";

/**
 * A first page of an app-scoped listing (credentials, deployments) costs one DynamoDB read,
 * counted on the handles the handlers use, and every page still answers exactly as before: 404
 * for an app that is unknown, being deleted or deleted; pages in order and complete. Deployments
 * are written with the records module, so no workflow reads in the background while a request
 * is counted.
 */
let api: TestApi;
beforeAll(async () => (api = await startTestApi()));
afterAll(() => api?.stop());

let orgCounter = 0;
/** A fresh org: nothing else in this file touches its handle while a request is counted. */
async function newOrg(): Promise<string> {
  const slug = `listings-${++orgCounter}`;
  const reply = await api.call(api.platformHost, "POST", "/v1/orgs", { token: api.tokens.platform("platform-admin"), body: { slug, name: slug } });
  expect(reply.status, reply.text).toBe(201);
  return slug;
}

const get = (org: string, path: string) => api.call(api.orgHost(org), "GET", path, { token: api.tokens.member(org, "admin") });
const send = (org: string, method: string, path: string, body?: unknown) =>
  api.call(api.orgHost(org), method, path, { token: api.tokens.member(org, "owner"), body });

async function newApp(org: string): Promise<string> {
  const reply = await send(org, "POST", "/v1/apps", { name: "listed" });
  expect(reply.status, reply.text).toBe(201);
  return reply.json.id;
}

async function newCredentials(org: string, app: string, names: string[]) {
  for (const name of names) expect((await send(org, "PUT", `/v1/apps/${app}/credentials/${name}`, { value: `v-${name}` })).status).toBe(200);
}

/** Deployments written as the route writes them, oldest first, then ended (so the app can be deleted); returns their ids newest first. */
async function newDeployments(org: string, app: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const { deployment } = await createDeployment(tenantTable(org), { appId: app, source: { ref: `r${i}` }, target: { id: "hosted", kind: "hosted" }, createdBy: "t" }, systemAudit("deployments.create"));
    await transition(tenantTable(org), app, deployment.id, "cancel");
    ids.push(deployment.id);
  }
  return ids.reverse();
}

/** The DynamoDB commands a request sends, the org lookup warm. */
async function commandsOf(org: string, request: () => Promise<Reply>): Promise<{ reply: Reply; sent: string[] }> {
  await get(org, "/v1/org");
  const { result, sent } = await commandsSent(org, request);
  return { reply: result, sent };
}

/** Every page of a listing at `limit`, with the commands each page cost. */
async function allPages(org: string, path: string, limit: number) {
  const pages: { items: any[]; sent: string[] }[] = [];
  let cursor: string | undefined;
  do {
    const { reply, sent } = await commandsOf(org, () => get(org, `${path}?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`));
    expect(reply.status, reply.text).toBe(200);
    expect(reply.json.items.length).toBeLessThanOrEqual(limit);
    pages.push({ items: reply.json.items, sent });
    cursor = reply.json.cursor;
  } while (cursor);
  return pages;
}

const expectNoSuchApp = (reply: Reply, what: string) => {
  expect(reply.status, `${what}: ${reply.text}`).toBe(404);
  expect(reply.headers["content-type"]).toBe("application/problem+json");
  expect(reply.json.detail).toBe("No such app.");
};

const listings = {
  credentials: { path: (app: string) => `/v1/apps/${app}/credentials`, idOf: (item: { name: string }) => item.name },
  deployments: { path: (app: string) => `/v1/apps/${app}/deployments`, idOf: (item: { id: string }) => item.id },
} as const;

/** An app with five credentials and five deployments; returns their names and ids in listing order. */
async function populatedApp(org: string) {
  const app = await newApp(org);
  const names = ["c0", "c1", "c2", "c3", "c4"];
  await newCredentials(org, app, names);
  return { app, expected: { credentials: names, deployments: await newDeployments(org, app, 5) } };
}

describe("a listing page is one DynamoDB read", () => {
  it("the first page of credentials and of deployments is one Query, which also proves the app exists", async () => {
    const org = await newOrg();
    const { app, expected } = await populatedApp(org);
    for (const [kind, listing] of Object.entries(listings)) {
      const { reply, sent } = await commandsOf(org, () => get(org, listing.path(app)));
      expect(reply.status, reply.text).toBe(200);
      expect(sent, kind).toEqual(["QueryCommand"]);
      expect(reply.json.items.map(listing.idOf)).toEqual(expected[kind as keyof typeof expected]);
      expect(reply.json.cursor).toBeUndefined();
    }
  });

  it("pages in order at every size; a later page is a Query with a read of the app beside it", async () => {
    const org = await newOrg();
    const { app, expected } = await populatedApp(org);
    for (const [kind, listing] of Object.entries(listings)) {
      for (const limit of [1, 2, 4, 5, 6]) {
        const pages = await allPages(org, listing.path(app), limit);
        expect(pages.flatMap((page) => page.items.map(listing.idOf)), `${kind} by ${limit}`).toEqual(expected[kind as keyof typeof expected]);
        expect(pages[0]!.items).toHaveLength(Math.min(limit, 5));
        expect(pages[0]!.sent).toEqual(["QueryCommand"]);
        for (const page of pages.slice(1)) expect(page.sent).toEqual(["GetItemCommand", "QueryCommand"]);
      }
    }
  });

  it("an app without items lists nothing, in one Query", async () => {
    const org = await newOrg();
    const app = await newApp(org);
    for (const listing of Object.values(listings)) {
      const { reply, sent } = await commandsOf(org, () => get(org, listing.path(app)));
      expect(reply.json).toEqual({ items: [] });
      expect(sent).toEqual(["QueryCommand"]);
    }
  });
});

describe("404 for an app that is not there, on every page", () => {
  it("an unknown app, and another org's app", async () => {
    const org = await newOrg();
    const theirs = await newApp(await newOrg());
    for (const app of ["z".repeat(26), theirs]) {
      for (const [kind, listing] of Object.entries(listings)) expectNoSuchApp(await get(org, listing.path(app)), `${kind} of ${app}`);
    }
  });

  it("an app being deleted (its deletion interrupted after the crypto-shred), and once deleted", async () => {
    const org = await newOrg();
    const { app } = await populatedApp(org);
    const cursors: Record<string, string> = {};
    for (const [kind, listing] of Object.entries(listings)) {
      const page = await get(org, `${listing.path(app)}?limit=2`);
      expect(page.json.cursor).toBeTruthy();
      cursors[kind] = page.json.cursor;
    }

    const store = new KeyStoreStandIn(api.offline.keyStoreDirectory);
    const crashAfterShred = overriding(store, {
      destroy: async (ref) => {
        await store.destroy(ref);
        throw new Error("crash after shred");
      },
    });
    const audit = pendingAudit({ actor: { kind: "system", sub: "test" }, action: "apps.delete", requestId: "test" });
    await expect(deleteApp(tenantTable(org), crashAfterShred, app, audit)).rejects.toThrow("crash after shred");
    expect((await get(org, `/v1/apps/${app}`)).status).toBe(404);
    for (const [kind, listing] of Object.entries(listings)) {
      expectNoSuchApp(await get(org, listing.path(app)), `${kind}, deleting`);
      expectNoSuchApp(await get(org, `${listing.path(app)}?limit=2&cursor=${encodeURIComponent(cursors[kind]!)}`), `${kind} after a cursor, deleting`);
    }

    expect((await send(org, "DELETE", `/v1/apps/${app}`)).status).toBe(204);
    const left = await api.partition(`ORG#${org}#APP#${app}`);
    expect(left).toEqual([]); // the whole partition goes: credentials, deployment records, heads
    for (const [kind, listing] of Object.entries(listings)) {
      expectNoSuchApp(await get(org, listing.path(app)), `${kind}, deleted`);
      expectNoSuchApp(await get(org, `${listing.path(app)}?limit=2&cursor=${encodeURIComponent(cursors[kind]!)}`), `${kind} after a cursor, deleted`);
    }
  });
});

describe("an app written before listing heads existed", () => {
  /** The same app as populatedApp, with its heads removed: what an older version wrote. */
  async function headlessApp(org: string) {
    const made = await populatedApp(org);
    for (const Key of keys.appListingHeads(org, made.app)) await api.db.send(new DeleteCommand({ TableName: api.offline.config.tableName, Key }));
    return made;
  }

  it("is listed from its app item (a second read), with the same pages", async () => {
    const org = await newOrg();
    const { app, expected } = await headlessApp(org);
    for (const [kind, listing] of Object.entries(listings)) {
      for (const limit of [2, 5, 6]) {
        const pages = await allPages(org, listing.path(app), limit);
        expect(pages.flatMap((page) => page.items.map(listing.idOf)), `${kind} by ${limit}`).toEqual(expected[kind as keyof typeof expected]);
        expect(pages[0]!.items).toHaveLength(Math.min(limit, 5));
        for (const page of pages) expect(page.sent).toEqual(["GetItemCommand", "QueryCommand"]);
      }
    }
  });

  it("is deleted completely: its deletion marks heads it did not have, then removes them", async () => {
    const org = await newOrg();
    const app = await newApp(org);
    await newCredentials(org, app, ["old"]);
    for (const Key of keys.appListingHeads(org, app)) await api.db.send(new DeleteCommand({ TableName: api.offline.config.tableName, Key }));
    expect((await send(org, "DELETE", `/v1/apps/${app}`)).status).toBe(204);
    expect(await api.partition(`ORG#${org}#APP#${app}`)).toEqual([]);
    for (const listing of Object.values(listings)) expectNoSuchApp(await get(org, listing.path(app)), "deleted");
  });
});

describe("the key layout of app listings", () => {
  const name = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.:@|-]{0,127}$/);
  const id = fc.stringMatching(/^[a-z2-7]{26}$/);
  const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
  const within = (sk: string, listing: { from: string; to: string }) => byteOrder(listing.from, sk) <= 0 && byteOrder(sk, listing.to) <= 0;

  it("each head sorts at the end its Query starts from, inside its bounds; other items of the partition lie outside", () => {
    const { credentials, deployments } = APP_LISTINGS;
    fc.assert(fc.property(id, name, name, fc.stringMatching(/^[0-9a-f]{64}$/), (app, credentialName, sub, hash) => {
      const credentialKeys = [
        keys.credential("acme", app, { kind: "system" }, credentialName).SK,
        keys.credential("acme", app, { kind: "user", sub }, credentialName).SK,
      ];
      // DynamoDB orders sort keys by their UTF-8 bytes.
      for (const sk of credentialKeys) {
        expect(byteOrder(credentials.head, sk)).toBeLessThan(0);
        expect(within(sk, credentials) && !within(sk, deployments)).toBe(true);
        expect(sk.startsWith(credentials.prefix) && !credentials.head.startsWith(credentials.prefix)).toBe(true);
      }
      const deploymentKey = keys.deployment("acme", app, `01${app.toUpperCase().slice(0, 24)}`).SK;
      expect(byteOrder(deploymentKey, deployments.head)).toBeLessThan(0);
      expect(within(deploymentKey, deployments) && !within(deploymentKey, credentials)).toBe(true);
      const idempotency = keys.deploymentIdempotency("acme", app, hash).SK;
      expect(within(idempotency, credentials) || within(idempotency, deployments)).toBe(false);
      expect(within(credentials.head, credentials) && within(deployments.head, deployments)).toBe(true);
      expect(within(credentials.head, deployments) || within(deployments.head, credentials)).toBe(false);
    }));
  });
});
