import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, type CallOptions, type TestApi } from "./support/api.ts";
import { auditSettled } from "./support/samples.ts";
import { DEPLOY_ROLE_NAME_RULE } from "../packages/core/src/iam/deploy-role-name.ts";

let api: TestApi;
let token: string;
let appId: string;
beforeAll(async () => {
  api = await startTestApi();
  token = api.tokens.member("acme", "owner");
  appId = (await api.call(api.orgHost("acme"), "POST", "/v1/apps", { token, body: { name: "keep", description: "as is" } })).json.id;
});
afterAll(() => api?.stop());

const ENTRY_ATTRIBUTES = ["PK", "SK", "action", "actor", "id", "nodes", "org", "outcome", "requestId", "seq", "sourceIp", "target", "time", "v"];
/** The log's partitions: its entries and heads, and its records waiting to be sequenced. */
const isAudit = (item: Record<string, any>) => String(item.PK).startsWith("ORG#acme#AUDIT");
const withoutAudit = (items: Record<string, any>[]) => JSON.stringify(items.filter((item) => !isAudit(item)));
const auditEntries = (items: Record<string, any>[]) => items.filter((item) => isAudit(item) && String(item.SK).startsWith("SEQ#")).sort((a, b) => a.seq - b.seq);
/** The table once every audit record committed so far is sequenced. */
const settledTable = async () => (await auditSettled(api, "acme"), api.dumpTable());

/**
 * The refusal changes nothing but the audit chain: a refused write leaves exactly one `failed`
 * entry with its status (and never any of the body), a refused read leaves none.
 */
async function expectRefusedUnchanged(method: string, path: string, options: CallOptions, status: number, type?: string) {
  const before = await settledTable();
  const reply = await api.call(api.orgHost("acme"), method, path, { token, ...options });
  expect(reply.status, reply.text).toBe(status);
  expect(reply.headers["content-type"]).toBe("application/problem+json");
  expect(reply.json).toMatchObject({ status, title: expect.any(String), requestId: expect.any(String) });
  if (type) expect(reply.json.type).toBe(`urn:bulkhead:problem:${type}`);
  const after = await settledTable();
  expect(withoutAudit(after)).toBe(withoutAudit(before));
  const added = auditEntries(after).slice(auditEntries(before).length);
  // Reads are not chained; neither is a request with no verified principal (an enrollment token).
  if (method === "GET" || path === "/v1/enroll") {
    expect(added).toEqual([]);
  } else {
    expect(added).toHaveLength(1);
    expect(added[0]).toMatchObject({ requestId: reply.json.requestId, outcome: { result: "failed", status, problem: reply.json.type.split(":").at(-1) } });
    // Nothing of the body: the entry has exactly the chain's fields, and its target is the path's ids.
    expect(Object.keys(added[0]!).sort()).toEqual(ENTRY_ATTRIBUTES);
    expect(added[0]!.target).toEqual(expectedTarget(path));
  }
  return reply;
}

/** The audit target of a refused write: the path's ids when they are valid, else nothing. */
function expectedTarget(path: string): Record<string, string> {
  const [, , collection, id] = path.split("/");
  const valid = id !== undefined && /^[a-z2-7]{26}$/.test(id);
  if (collection === "apps" && id !== undefined) return { appId: id };
  if (collection === "grants" && valid) return { grantId: id };
  return {};
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

describe("bad input on source uploads is a 4xx problem and writes nothing but its audit entry", () => {
  const sha256 = "b".repeat(64);
  const path = () => `/v1/apps/${appId}/sources`;
  it("malformed JSON → 422, wrong content type → 415", async () => {
    await expectRefusedUnchanged("POST", path(), { rawBody: '{"ref": "v1"', headers: json }, 422, "malformed-json");
    await expectRefusedUnchanged("POST", path(), { rawBody: "ref=v1", headers: { "content-type": "application/x-www-form-urlencoded" } }, 415);
  });
  it("refs that leave their segment, overlong refs, bad checksums and sizes, forged fields → 400 naming the field", async () => {
    const cases: [object, string][] = [
      [{ ref: "../v1", sha256 }, "ref"], [{ ref: "v1/..", sha256 }, "ref"], [{ ref: "a/b", sha256 }, "ref"], [{ ref: ".hidden", sha256 }, "ref"],
      [{ ref: "r".repeat(129), sha256 }, "ref"], [{ ref: "v 1", sha256 }, "ref"], [{ ref: "v1", sha256: "xyz" }, "sha256"],
      [{ ref: "v1", sha256: sha256.toUpperCase() }, "sha256"], [{ ref: "v1", sha256, size: -1 }, "size"], [{ ref: "v1", sha256, size: 1.5 }, "size"],
      [{ ref: "v1", sha256, size: 100 * 1024 * 1024 + 1 }, "size"], [{ ref: "v1", sha256, key: "acme/other/sources/v1.zip" }, "key"],
      [{ ref: "v1", sha256, status: "uploaded" }, "status"],
    ];
    for (const [body, field] of cases) {
      const reply = await expectRefusedUnchanged("POST", path(), { body }, 400, "invalid-request");
      expect(JSON.stringify(reply.json.errors ?? []), JSON.stringify(body)).toContain(field);
    }
  });
  it("bad listing queries and app ids → 400", async () => {
    await expectRefusedUnchanged("GET", `${path()}?limit=0`, {}, 400);
    await expectRefusedUnchanged("GET", `${path()}?cursor=junk`, {}, 400, "invalid-cursor");
    await expectRefusedUnchanged("GET", "/v1/apps/Not-An-Id/sources", {}, 400);
  });
});

describe("bad input on targets, enrollment and grants is a 4xx problem and writes nothing", () => {
  const byoi = { name: "t", kind: "byoi", accountId: "123456789012", deployRoleArn: "arn:aws:iam::123456789012:role/bulkhead-deploy-acme", region: "eu-west-1" };
  const grant = { phase: "Deploy", targetId: "a".repeat(26), reason: "release", durationSeconds: 600 };
  let enrollment: string;
  let operator: string;
  beforeAll(async () => {
    operator = api.tokens.platform("operator");
    enrollment = (await api.call(api.orgHost("acme"), "POST", "/v1/enrollments", { token, body: {} })).json.token;
  });

  it("targets: every malformed or inconsistent body → 400 naming the field", async () => {
    const cases: [object, string][] = [
      [{ name: "t" }, "kind"],
      [{ ...byoi, kind: "cloud" }, "kind"],
      [{ ...byoi, accountId: undefined }, "accountId"],
      [{ ...byoi, accountId: "12345678901" }, "accountId"],
      [{ ...byoi, deployRoleArn: "arn:aws:iam::123456789012:user/deploy" }, "deployRoleArn"],
      [{ ...byoi, deployRoleArn: "arn:aws:iam::999999999999:role/bulkhead-deploy-acme" }, "deployRoleArn"],
      [{ ...byoi, region: "europe" }, "region"],
      [{ ...byoi, region: "us-gov-west-1" }, "region"],
      [{ ...byoi, externalId: "chosen-by-the-caller-chosen-by-the-caller" }, "externalId"],
      [{ name: "h", kind: "hosted", deployRoleArn: byoi.deployRoleArn }, "deployRoleArn"],
      [{ ...byoi, name: " " }, "name"],
    ];
    for (const [body, field] of cases) {
      const reply = await expectRefusedUnchanged("POST", "/v1/targets", { body }, 400, "invalid-request");
      expect(JSON.stringify(reply.json.errors), JSON.stringify(body)).toContain(field);
    }
  });

  it("targets: a deploy role not named bulkhead-deploy-<org> at the root path → 400 naming the rule", async () => {
    const role = (name: string) => `arn:aws:iam::123456789012:role/${name}`;
    const offConvention = [
      role("deploy"),
      role("bulkhead-deploy"),
      role("bulkhead-deploy-"),
      role("Bulkhead-Deploy-acme"),
      role("bulkhead-deployer-acme"),
      role("ops/bulkhead-deploy-acme"), // a path: outside role/bulkhead-deploy-*
      role("bulkhead-deploy-x/bulkhead-deploy-acme"), // matches role/bulkhead-deploy-* only through the path
      role("bulkhead-deploy-hosted_production"), // the hosted target's name: never an org's
      role("bulkhead-deploy-ACME"),
    ];
    for (const deployRoleArn of offConvention) {
      const reply = await expectRefusedUnchanged("POST", "/v1/targets", { body: { ...byoi, deployRoleArn } }, 400, "invalid-request");
      const errors = reply.json.errors as { path: string; message: string }[];
      expect(errors, deployRoleArn).toEqual([{ path: "deployRoleArn", message: DEPLOY_ROLE_NAME_RULE }]);
      expect(errors[0]!.message).toContain("bulkhead-deploy-<org>");
    }
    // Another org's name follows the pattern but not this org's convention: refused the same way, naming this org's role.
    for (const deployRoleArn of [role("bulkhead-deploy-globex"), role("bulkhead-deploy-acme2"), role("bulkhead-deploy-acm")]) {
      const reply = await expectRefusedUnchanged("POST", "/v1/targets", { body: { ...byoi, deployRoleArn } }, 400, "invalid-request");
      expect(reply.json.errors, deployRoleArn).toEqual([{ path: "deployRoleArn", message: expect.stringContaining("bulkhead-deploy-acme)") }]);
      expect(reply.json.errors[0].message).toContain(DEPLOY_ROLE_NAME_RULE);
    }
  });

  it("targets: bad ids and queries → 400", async () => {
    await expectRefusedUnchanged("GET", "/v1/targets/ORG%23globex", {}, 400);
    await expectRefusedUnchanged("DELETE", "/v1/targets/short", {}, 400);
    await expectRefusedUnchanged("GET", "/v1/targets?limit=0", {}, 400);
    await expectRefusedUnchanged("GET", "/v1/targets?cursor=forged", {}, 400, "invalid-cursor");
  });

  it("enrollments: ttl out of range or not an integer, bad target id, unknown fields → 400", async () => {
    for (const body of [{ ttlSeconds: 59 }, { ttlSeconds: 86_401 }, { ttlSeconds: "600" }, { ttlSeconds: 600.5 }, { targetId: "x#y" }, { token: "bhe_mine" }]) {
      await expectRefusedUnchanged("POST", "/v1/enrollments", { body }, 400, "invalid-request");
    }
    await expectRefusedUnchanged("POST", "/v1/enrollments", { body: { targetId: "a".repeat(26) } }, 404, "not-found");
  });

  it("enroll: bad bodies are refused before the token is spent", async () => {
    const headers = { authorization: `Enrollment ${enrollment}` };
    for (const body of [{}, { name: "" }, { name: "e", org: "globex" }, { name: "e", targetId: "a".repeat(26) }, { name: "e", publicKey: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----" }]) {
      await expectRefusedUnchanged("POST", "/v1/enroll", { token: undefined, headers, body }, 400, "invalid-request");
    }
    await expectRefusedUnchanged("POST", "/v1/enroll", { token: undefined, headers: { ...headers, ...json }, rawBody: "{" }, 422, "malformed-json");
    await expectRefusedUnchanged("POST", "/v1/enroll", { token: undefined, headers, rawBody: "name=e" }, 415);
  });

  it("grants: bad phase, duration over the phase's maximum, blank reason, forged decision fields → 400", async () => {
    const cases: [object, string][] = [
      [{ ...grant, phase: "Observe" }, "phase"],
      [{ ...grant, phase: "deploy" }, "phase"],
      [{ ...grant, phase: "Operate", durationSeconds: 4 * 3600 + 1 }, "durationSeconds"],
      [{ ...grant, durationSeconds: 299 }, "durationSeconds"],
      [{ ...grant, durationSeconds: 600.5 }, "durationSeconds"],
      [{ ...grant, reason: "" }, "reason"],
      [{ ...grant, reason: "r".repeat(501) }, "reason"],
      [{ ...grant, targetId: "../x" }, "targetId"],
      [{ ...grant, state: "ACTIVE", approvedBy: "me" }, "approvedBy"],
      [{ ...grant, notAfter: "2099-01-01T00:00:00.000Z" }, "notAfter"],
    ];
    for (const [body, field] of cases) {
      const reply = await expectRefusedUnchanged("POST", "/v1/grants", { token: operator, body }, 400, "invalid-request");
      expect(JSON.stringify(reply.json.errors), JSON.stringify(body)).toContain(field);
    }
    await expectRefusedUnchanged("POST", "/v1/grants", { token: operator, headers: json }, 422);
    await expectRefusedUnchanged("POST", "/v1/grants", { token: operator, body: grant }, 404, "not-found");
  });

  it("grant decisions: bad ids → 400, unknown → 404", async () => {
    for (const id of ["observe2", "OBSERVE", "short", "ORG%23globex"]) {
      await expectRefusedUnchanged("POST", `/v1/grants/${id}/approve`, {}, 400);
    }
    await expectRefusedUnchanged("POST", `/v1/grants/${"a".repeat(26)}/revoke`, {}, 404, "not-found");
    await expectRefusedUnchanged("GET", "/v1/grants?limit=101", {}, 400);
  });
});
