import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, type CallOptions, type TestApi } from "./support/api.ts";

let api: TestApi;
let token: string;
let appId: string;
beforeAll(async () => {
  api = await startTestApi();
  token = api.tokens.member("acme", "owner");
  appId = (await api.call(api.orgHost("acme"), "POST", "/v1/apps", { token, body: { name: "keep", description: "as is" } })).json.id;
});
afterAll(() => api?.stop());

const ENTRY_ATTRIBUTES = ["PK", "SK", "action", "actor", "hash", "org", "outcome", "prevHash", "requestId", "seq", "sourceIp", "target", "time", "v"];
const isAudit = (item: Record<string, any>) => item.PK === "ORG#acme#AUDIT";
const withoutAudit = (items: Record<string, any>[]) => JSON.stringify(items.filter((item) => !isAudit(item)));
const auditEntries = (items: Record<string, any>[]) => items.filter(isAudit).sort((a, b) => a.seq - b.seq);

/**
 * The refusal changes nothing but the audit chain: a refused write leaves exactly one `failed`
 * entry with its status (and never any of the body), a refused read leaves none.
 */
async function expectRefusedUnchanged(method: string, path: string, options: CallOptions, status: number, type?: string) {
  const before = await api.dumpTable();
  const reply = await api.call(api.orgHost("acme"), method, path, { token, ...options });
  expect(reply.status, reply.text).toBe(status);
  expect(reply.headers["content-type"]).toBe("application/problem+json");
  expect(reply.json).toMatchObject({ status, title: expect.any(String), requestId: expect.any(String) });
  if (type) expect(reply.json.type).toBe(`urn:bulkhead:problem:${type}`);
  const after = await api.dumpTable();
  expect(withoutAudit(after)).toBe(withoutAudit(before));
  const added = auditEntries(after).slice(auditEntries(before).length);
  if (method === "GET") {
    expect(added).toEqual([]);
  } else {
    expect(added).toHaveLength(1);
    expect(added[0]).toMatchObject({ requestId: reply.json.requestId, outcome: { result: "failed", status, problem: reply.json.type.split(":").at(-1) } });
    // Nothing of the body: the entry has exactly the chain's fields, and its target is the path's ids.
    expect(Object.keys(added[0]!).sort()).toEqual(ENTRY_ATTRIBUTES);
    expect(added[0]!.target).toEqual(path.startsWith("/v1/apps/") ? { appId: path.split("/")[3] } : {});
  }
  return reply;
}

const json = { "content-type": "application/json" };

describe("bad input is a 4xx problem and writes nothing but its audit entry", () => {
  it("malformed JSON → 422", () =>
    expectRefusedUnchanged("POST", "/v1/apps", { rawBody: '{"name": "x"', headers: json }, 422, "malformed-json"));
  it("missing body → 422", () => expectRefusedUnchanged("POST", "/v1/apps", { headers: json }, 422, "malformed-json"));
  it("wrong content type → 415", () =>
    expectRefusedUnchanged("POST", "/v1/apps", { rawBody: "name=x", headers: { "content-type": "application/x-www-form-urlencoded" } }, 415, "unsupported-media-type"));
  it("no content type → 415", () => expectRefusedUnchanged("POST", "/v1/apps", { rawBody: '{"name":"x"}' }, 415));
  it("body over 64 KiB → 413", () =>
    expectRefusedUnchanged("POST", "/v1/apps", { body: { name: "x", description: "d".repeat(70 * 1024) } }, 413, "payload-too-large"));
  it("unknown field (mass assignment) → 400 naming the field", async () => {
    const reply = await expectRefusedUnchanged("POST", "/v1/apps", { body: { name: "x", org: "globex", id: "a".repeat(26) } }, 400, "invalid-request");
    expect(JSON.stringify(reply.json.errors)).toContain("org");
  });
  it("unknown field on update → 400", () =>
    expectRefusedUnchanged("PATCH", `/v1/apps/${appId}`, { body: { createdAt: "2000-01-01T00:00:00Z" } }, 400));
  it("empty update → 400", () => expectRefusedUnchanged("PATCH", `/v1/apps/${appId}`, { body: {} }, 400));
  it("wrong types → 400", () => expectRefusedUnchanged("POST", "/v1/apps", { body: { name: 42 } }, 400));
  it("blank and overlong names → 400", async () => {
    await expectRefusedUnchanged("POST", "/v1/apps", { body: { name: "   " } }, 400);
    await expectRefusedUnchanged("POST", "/v1/apps", { body: { name: "n".repeat(101) } }, 400);
  });
  it("a JSON array or scalar body → 400", async () => {
    await expectRefusedUnchanged("POST", "/v1/apps", { rawBody: "[]", headers: json }, 400);
    await expectRefusedUnchanged("POST", "/v1/apps", { rawBody: "null", headers: json }, 400);
  });
  it("__proto__ in the body is refused", () =>
    expectRefusedUnchanged("POST", "/v1/apps", { rawBody: '{"name":"x","__proto__":{"admin":true}}', headers: json }, 422));
  it("bad ids in the path → 400", async () => {
    for (const id of ["short", "UPPERCASEUPPERCASEUPPERCAS", "a%23b", "ORG%23globex", "a".repeat(27), "%E0%A4%A"]) {
      await expectRefusedUnchanged("GET", `/v1/apps/${id}`, {}, id === "%E0%A4%A" ? 404 : 400);
    }
  });
  it("bad query → 400", async () => {
    await expectRefusedUnchanged("GET", "/v1/apps?limit=0", {}, 400);
    await expectRefusedUnchanged("GET", "/v1/apps?limit=101", {}, 400);
    await expectRefusedUnchanged("GET", "/v1/apps?limit=ten", {}, 400);
    await expectRefusedUnchanged("GET", "/v1/apps?org=globex", {}, 400);
    await expectRefusedUnchanged("GET", "/v1/apps?cursor=garbage", {}, 400, "invalid-cursor");
  });
  it("an unknown route → 404 problem", () => expectRefusedUnchanged("GET", "/v1/nothing-here", {}, 404, "route-not-found"));

  it("the app is untouched after all of it", async () => {
    const reply = await api.call(api.orgHost("acme"), "GET", `/v1/apps/${appId}`, { token });
    expect(reply.json).toMatchObject({ name: "keep", description: "as is" });
  });
});
