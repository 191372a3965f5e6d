import { createHash, generateKeyPairSync } from "node:crypto";
import { UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { localClient } from "../packages/local/src/dynamodb.ts";
import { startTestApi, type Reply, type TestApi } from "./support/api.ts";
import { newEnrollmentToken, newTarget } from "./support/samples.ts";

let api: TestApi;
beforeAll(async () => (api = await startTestApi()));
afterAll(() => api?.stop());

const sha256 = (token: string) => createHash("sha256").update(token).digest("hex");
const present = (token: string, body: object = { name: "edge-01" }, org = "acme") =>
  api.call(api.orgHost(org), "POST", "/v1/enroll", { headers: { authorization: `Enrollment ${token}` }, body });

function expectRefused(reply: Reply) {
  expect(reply.status, reply.text).toBe(401);
  expect(reply.headers["content-type"]).toBe("application/problem+json");
  expect(reply.headers["www-authenticate"]).toBe('Enrollment realm="bulkhead"');
  expect(reply.json).toMatchObject({ type: "urn:bulkhead:problem:invalid-enrollment-token", detail: "The enrollment token is not valid." });
}

const tokenItem = async (token: string, org = "acme") =>
  (await api.partition(`ORG#${org}`)).find((item) => item.SK === `ENROLL#${sha256(token)}`);
const appliances = async (org = "acme") => (await api.partition(`ORG#${org}`)).filter((item) => item.type === "appliance");

describe("issuing enrollment tokens", () => {
  it("returns a 256-bit token once and stores only its SHA-256, with a TTL", async () => {
    const before = Math.floor(Date.now() / 1000);
    const reply = await api.call(api.orgHost("acme"), "POST", "/v1/enrollments", { token: api.tokens.member("acme", "admin"), body: { ttlSeconds: 900 } });
    expect(reply.status, reply.text).toBe(201);
    const token = reply.json.token as string;
    expect(token).toMatch(/^bhe_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(token.slice(4), "base64url")).toHaveLength(32);
    expect(JSON.stringify(await api.dumpTable())).not.toContain(token.slice(4));
    const item = await tokenItem(token);
    expect(item).toMatchObject({ type: "enrollment", createdBy: "admin-of-acme" });
    expect(item!.expiresAt).toBeGreaterThanOrEqual(before + 900);
    expect(item!.expiresAt).toBeLessThanOrEqual(before + 901);
    expect(Date.parse(reply.json.expiresAt) / 1000).toBe(item!.expiresAt);
  });

  it("binds a token to a target of this org only", async () => {
    const targetId = await newTarget(api, "acme");
    const reply = await api.call(api.orgHost("acme"), "POST", "/v1/enrollments", { token: api.tokens.member("acme", "admin"), body: { targetId } });
    expect(reply.json).toMatchObject({ targetId });
    const globexTarget = await newTarget(api, "globex");
    const refused = await api.call(api.orgHost("acme"), "POST", "/v1/enrollments", { token: api.tokens.member("acme", "admin"), body: { targetId: globexTarget } });
    expect(refused.status).toBe(404);
  });

  it("is for owners and admins only", async () => {
    for (const role of ["viewer", "developer"] as const) {
      const reply = await api.call(api.orgHost("acme"), "POST", "/v1/enrollments", { token: api.tokens.member("acme", role), body: {} });
      expect(reply.status).toBe(403);
    }
  });
});

describe("enrolling with a token", () => {
  it("binds the appliance to the org and the token's target, once; a replay is 401", async () => {
    const targetId = await newTarget(api, "acme");
    const token = await newEnrollmentToken(api, "acme", { targetId });
    const { publicKey } = generateKeyPairSync("ed25519");
    const pem = publicKey.export({ type: "spki", format: "pem" }).toString();
    const enrolled = await present(token, { name: "edge-01", publicKey: pem });
    expect(enrolled.status, enrolled.text).toBe(201);
    const fingerprint = `SHA256:${createHash("sha256").update(publicKey.export({ type: "spki", format: "der" })).digest("base64url")}`;
    expect(enrolled.json).toMatchObject({ name: "edge-01", targetId, publicKeyFingerprint: fingerprint });
    expect(enrolled.text).not.toContain(token);

    const stored = (await appliances()).find((a) => a.id === enrolled.json.id);
    expect(stored).toMatchObject({ PK: "ORG#acme", SK: `APPLIANCE#${enrolled.json.id}`, targetId, publicKey: pem });
    expect(await tokenItem(token)).toMatchObject({ consumedAt: enrolled.json.enrolledAt, applianceId: enrolled.json.id });

    const count = (await appliances()).length;
    expectRefused(await present(token, { name: "edge-01" }));
    expectRefused(await present(token, { name: "someone-else" }));
    expect(await appliances()).toHaveLength(count);
  });

  it("an expired token is 401 even before DynamoDB's TTL has deleted it", async () => {
    const token = await newEnrollmentToken(api, "acme", { ttlSeconds: 60 });
    // TTL deletion is lazy: the item may outlive its expiry. Age it in place (test-only raw write).
    const db = DynamoDBDocumentClient.from(localClient(api.offline.dynamoEndpoint));
    await db.send(new UpdateCommand({
      TableName: api.offline.config.tableName,
      Key: { PK: "ORG#acme", SK: `ENROLL#${sha256(token)}` },
      UpdateExpression: "SET expiresAt = :past",
      ExpressionAttributeValues: { ":past": Math.floor(Date.now() / 1000) - 1 },
    }));
    const count = (await appliances()).length;
    expectRefused(await present(token));
    expect(await tokenItem(token)).not.toHaveProperty("consumedAt");
    expect(await appliances()).toHaveLength(count);
  });

  it("a token presented on another org's host is 401, and stays good on its own host", async () => {
    const token = await newEnrollmentToken(api, "globex");
    expectRefused(await present(token, { name: "edge-01" }, "acme"));
    expect(await tokenItem(token, "globex")).not.toHaveProperty("consumedAt");
    expect((await appliances("acme")).some((a) => a.name === "lost-in-acme")).toBe(false);
    const own = await present(token, { name: "globex-edge" }, "globex");
    expect(own.status, own.text).toBe(201);
  });

  it("64 concurrent presentations of one token: exactly one success", async () => {
    const token = await newEnrollmentToken(api, "acme");
    const before = (await appliances()).length;
    const replies = await Promise.all(Array.from({ length: 64 }, (_, i) => present(token, { name: `racer-${i}` })));
    const won = replies.filter((r) => r.status === 201);
    expect(won).toHaveLength(1);
    for (const reply of replies.filter((r) => r.status !== 201)) expectRefused(reply);
    const after = await appliances();
    expect(after).toHaveLength(before + 1);
    expect(after.find((a) => a.id === won[0]!.json.id)?.name).toBe(won[0]!.json.name);
    expect((await tokenItem(token))!.applianceId).toBe(won[0]!.json.id);
  });

  it("a token whose target was deleted binds nothing", async () => {
    const targetId = await newTarget(api, "acme");
    const token = await newEnrollmentToken(api, "acme", { targetId });
    const owner = api.tokens.member("acme", "owner");
    expect((await api.call(api.orgHost("acme"), "DELETE", `/v1/targets/${targetId}`, { token: owner })).status).toBe(204);
    expectRefused(await present(token));
    expect((await appliances()).some((a) => a.targetId === targetId)).toBe(false);
  });

  it("refuses missing, malformed and bearer credentials alike", async () => {
    const jwt = api.tokens.member("acme", "owner");
    for (const authorization of [undefined, "Enrollment", "Enrollment bhe_short", `Enrollment ${"x".repeat(47)}`, `Bearer ${jwt}`, `enrollment bhe_${"A".repeat(43)}`]) {
      const reply = await api.call(api.orgHost("acme"), "POST", "/v1/enroll", {
        headers: authorization ? { authorization } : {}, body: { name: "edge" },
      });
      expectRefused(reply);
    }
    expectRefused(await present(`bhe_${"A".repeat(43)}`));
  });

  it("a bad body is 400 and leaves the token unused", async () => {
    const token = await newEnrollmentToken(api, "acme");
    const { publicKey: weak } = generateKeyPairSync("rsa", { modulusLength: 1024 });
    for (const body of [{}, { name: "" }, { name: "e", org: "globex" }, { name: "e", publicKey: "not a key" },
      { name: "e", publicKey: weak.export({ type: "spki", format: "pem" }).toString() }]) {
      const reply = await present(token, body);
      expect(reply.status, JSON.stringify(body)).toBe(400);
    }
    expect(await tokenItem(token)).not.toHaveProperty("consumedAt");
    expect((await present(token)).status).toBe(201);
  });
});
