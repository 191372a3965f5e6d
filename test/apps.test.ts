import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keyStore } from "../packages/core/src/key-stores/select-key-store.ts";
import { startTestApi, type TestApi } from "./support/api.ts";

let api: TestApi;
beforeAll(async () => (api = await startTestApi()));
afterAll(() => api?.stop());

describe("apps API on an org host", () => {
  it("creates, reads, renames, lists and deletes an app", async () => {
    const token = api.tokens.member("acme", "admin");
    const host = api.orgHost("acme");
    const created = await api.call(host, "POST", "/v1/apps", { token, body: { name: "web", description: "site" } });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ name: "web", description: "site" });
    expect(created.headers.location).toBe(`/v1/apps/${created.json.id}`);
    const id = created.json.id as string;

    expect((await api.call(host, "GET", `/v1/apps/${id}`, { token })).json).toEqual(created.json);
    const renamed = await api.call(host, "PATCH", `/v1/apps/${id}`, { token, body: { name: "www", description: null } });
    expect(renamed.status).toBe(200);
    expect(renamed.json.name).toBe("www");
    expect(renamed.json.description).toBeUndefined();

    const listed = await api.call(host, "GET", "/v1/apps", { token });
    expect(listed.json.items.map((app: { id: string }) => app.id)).toContain(id);

    expect((await api.call(host, "DELETE", `/v1/apps/${id}`, { token })).status).toBe(204);
    expect((await api.call(host, "GET", `/v1/apps/${id}`, { token })).status).toBe(404);
    expect((await api.call(host, "DELETE", `/v1/apps/${id}`, { token })).status).toBe(404);
  });

  it("keeps an app's build settings: set, replaced, cleared, and refused when malformed", async () => {
    const token = api.tokens.member("acme", "developer");
    const host = api.orgHost("acme");
    const created = await api.call(host, "POST", "/v1/apps", { token, body: { name: "built", build: { command: "npm ci && npm run build" } } });
    expect(created.status).toBe(201);
    expect(created.json.build).toEqual({ command: "npm ci && npm run build" });
    const id = created.json.id as string;
    const changed = await api.call(host, "PATCH", `/v1/apps/${id}`, { token, body: { build: { command: "make" } } });
    expect(changed.json.build).toEqual({ command: "make" });
    const cleared = await api.call(host, "PATCH", `/v1/apps/${id}`, { token, body: { build: null } });
    expect(cleared.status).toBe(200);
    expect(cleared.json.build).toBeUndefined();
    for (const build of [{ command: "" }, { command: "a\u0000b" }, { command: "x", shell: "bash" }, { command: "y".repeat(4097) }, "make"]) {
      const reply = await api.call(host, "PATCH", `/v1/apps/${id}`, { token, body: { build } });
      expect(reply.status, JSON.stringify(build)).toBe(400);
    }
    expect((await api.call(host, "GET", `/v1/apps/${id}`, { token })).json.build).toBeUndefined();
  });

  it("shows the app's current KEK version and when it became current: at creation, then after each rotation", async () => {
    const token = api.tokens.member("acme", "admin");
    const host = api.orgHost("acme");
    const created = await api.call(host, "POST", "/v1/apps", { token, body: { name: "keyed" } });
    const id = created.json.id as string;
    const current = await keyStore().current({ org: "acme", app: id });
    expect(created.json.kek).toEqual({ version: current.version, rotatedAt: created.json.createdAt });
    expect((await api.call(host, "GET", `/v1/apps/${id}`, { token })).json.kek).toEqual(created.json.kek);

    const rotated = await api.call(host, "POST", `/v1/apps/${id}/rotate`, { token });
    expect(rotated.status).toBe(200);
    expect(rotated.json.kekVersion).not.toBe(created.json.kek.version);
    const after = (await api.call(host, "GET", `/v1/apps/${id}`, { token })).json;
    expect(after.kek).toEqual({ version: rotated.json.kekVersion, rotatedAt: rotated.json.kekRotatedAt });
    expect((await keyStore().current({ org: "acme", app: id })).version).toBe(after.kek.version);
    const listed = (await api.call(host, "GET", "/v1/apps?limit=100", { token })).json.items.find((app: { id: string }) => app.id === id);
    expect(listed.kek).toEqual(after.kek);
  });

  it("stores apps under the org's partition only", async () => {
    const token = api.tokens.member("globex", "developer");
    const created = await api.call(api.orgHost("globex"), "POST", "/v1/apps", { token, body: { name: "billing" } });
    const items = await api.partition("ORG#globex");
    expect(items).toContainEqual(expect.objectContaining({ PK: "ORG#globex", SK: `APP#${created.json.id}`, name: "billing" }));
  });

  it("pages through apps with signed cursors", async () => {
    const token = api.tokens.member("globex", "developer");
    const host = api.orgHost("globex");
    for (let i = 0; i < 5; i++) await api.call(host, "POST", "/v1/apps", { token, body: { name: `page-${i}` } });
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const path = `/v1/apps?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
      const page = await api.call(host, "GET", path, { token });
      expect(page.status).toBe(200);
      expect(page.json.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.json.items.map((app: { id: string }) => app.id));
      cursor = page.json.cursor;
      pages++;
    } while (cursor);
    const all = (await api.call(host, "GET", "/v1/apps?limit=100", { token })).json.items;
    expect(new Set(seen).size).toBe(all.length);
    expect(pages).toBeGreaterThanOrEqual(3);
  });

  it("refuses a cursor from another org, and a tampered one", async () => {
    const globex = api.tokens.member("globex", "viewer");
    const acme = api.tokens.member("acme", "viewer");
    await api.call(api.orgHost("acme"), "POST", "/v1/apps", { token: api.tokens.member("acme", "developer"), body: { name: "a1" } });
    await api.call(api.orgHost("acme"), "POST", "/v1/apps", { token: api.tokens.member("acme", "developer"), body: { name: "a2" } });
    const page = await api.call(api.orgHost("globex"), "GET", "/v1/apps?limit=1", { token: globex });
    const cursor = page.json.cursor as string;
    expect(cursor).toBeTruthy();

    const crossOrg = await api.call(api.orgHost("acme"), "GET", `/v1/apps?cursor=${encodeURIComponent(cursor)}`, { token: acme });
    expect(crossOrg.status).toBe(400);
    expect(crossOrg.json.type).toBe("urn:bulkhead:problem:invalid-cursor");

    const [body, signature] = cursor.split(".");
    const forgedBody = Buffer.from(Buffer.from(body!, "base64url").toString().replace("globex", "acme")).toString("base64url");
    const forged = await api.call(api.orgHost("acme"), "GET", `/v1/apps?cursor=${forgedBody}.${signature}`, { token: acme });
    expect(forged.status).toBe(400);
  });

  it("serves the org record for its host", async () => {
    const reply = await api.call(api.orgHost("acme"), "GET", "/v1/org", { token: api.tokens.member("acme", "viewer") });
    expect(reply.status).toBe(200);
    expect(reply.json).toMatchObject({ slug: "acme", status: "active" });
  });
});

describe("orgs API on the platform host", () => {
  it("registers, reads, suspends and resumes an org", async () => {
    const token = api.tokens.platform("platform-admin");
    const created = await api.call(api.platformHost, "POST", "/v1/orgs", { token, body: { slug: "umbrella", name: "Umbrella" } });
    expect(created.status).toBe(201);
    expect((await api.call(api.platformHost, "POST", "/v1/orgs", { token, body: { slug: "umbrella", name: "Again" } })).status).toBe(409);

    const member = api.tokens.member("umbrella", "owner");
    expect((await api.call(api.orgHost("umbrella"), "GET", "/v1/org", { token: member })).status).toBe(200);

    expect((await api.call(api.platformHost, "POST", "/v1/orgs/umbrella/suspend", { token })).json.status).toBe("suspended");
    const refused = await api.call(api.orgHost("umbrella"), "GET", "/v1/org", { token: member });
    expect(refused.status).toBe(403);
    expect(refused.json.type).toBe("urn:bulkhead:problem:org-suspended");

    expect((await api.call(api.platformHost, "POST", "/v1/orgs/umbrella/resume", { token })).json.status).toBe("active");
    expect((await api.call(api.orgHost("umbrella"), "GET", "/v1/org", { token: member })).status).toBe(200);
    expect((await api.call(api.platformHost, "GET", "/v1/orgs/nosuch", { token })).status).toBe(404);
    expect((await api.call(api.platformHost, "POST", "/v1/orgs/nosuch/suspend", { token })).status).toBe(404);
  });

  it("refuses reserved and malformed slugs", async () => {
    const token = api.tokens.platform("platform-admin");
    for (const slug of ["www", "api", "Acme", "a", "-x", "x-", "a.b", "has#hash"]) {
      const reply = await api.call(api.platformHost, "POST", "/v1/orgs", { token, body: { slug, name: "n" } });
      expect(reply.status, slug).toBe(400);
    }
  });
});
