import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tenantTable } from "../packages/core/src/data/tables.ts";
import { readDeployTarget } from "../packages/core/src/targets/targets.ts";
import { parseRoleArn, partitionOfRegion } from "../packages/core/src/targets/aws-names.ts";
import { customerDeployTrust } from "../packages/core/src/iam/customer-deploy-trust.ts";
import { OFFLINE_DEPLOYER_ROLE_ARN } from "../packages/local/src/runtime.ts";
import { startTestApi, type TestApi } from "./support/api.ts";
import { byoiTarget } from "./support/samples.ts";

let api: TestApi;
beforeAll(async () => (api = await startTestApi()));
afterAll(() => api?.stop());

const host = () => api.orgHost("acme");
const admin = () => api.tokens.member("acme", "admin");
const create = (body: object) => api.call(host(), "POST", "/v1/targets", { token: admin(), body });

describe("BYOI targets", () => {
  it("get an ExternalId and a trust policy once, at creation", async () => {
    const created = await create(byoiTarget("acme", "prod-eu"));
    expect(created.status, created.text).toBe(201);
    const { externalId, trustPolicy, deployRoleNaming, ...target } = created.json;
    // The customer is told the naming rule with the snippet, and this org's role name.
    expect(deployRoleNaming).toContain("bulkhead-deploy-<org>");
    expect(deployRoleNaming).toContain("bulkhead-deploy-acme");
    expect(deployRoleNaming).toMatch(/no IAM path/);
    expect(created.headers.location).toBe(`/v1/targets/${target.id}`);
    expect(target).toMatchObject({ name: "prod-eu", kind: "byoi", accountId: "123456789012", region: "eu-west-1" });
    expect(externalId).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(trustPolicy).toEqual(customerDeployTrust({ deployerRoleArn: OFFLINE_DEPLOYER_ROLE_ARN, externalId, org: "acme" }));
    expect(trustPolicy.Statement[0]).toMatchObject({
      Principal: { AWS: OFFLINE_DEPLOYER_ROLE_ARN }, Action: ["sts:AssumeRole"], Condition: { StringEquals: { "sts:ExternalId": externalId } },
    });

    const read = await api.call(host(), "GET", `/v1/targets/${target.id}`, { token: api.tokens.member("acme", "viewer") });
    expect(read.json).toEqual(target);
    const list = await api.call(host(), "GET", "/v1/targets?limit=100", { token: api.tokens.member("acme", "viewer") });
    expect(list.json.items).toContainEqual(target);
    const asOperator = await api.call(host(), "GET", `/v1/targets/${target.id}`, { token: api.tokens.platform("operator") });
    expect(asOperator.json).toEqual(target);
    for (const reply of [read, list, asOperator]) expect(reply.text).not.toContain(externalId);

    // Stored for the deploy workflow, which reads it through the same tenant handle.
    expect((await readDeployTarget(tenantTable("acme"), target.id)).externalId).toBe(externalId);
    expect((await api.partition("ORG#acme")).find((item) => item.SK === `TARGET#${target.id}`)?.externalId).toBe(externalId);
  });

  it("each get their own ExternalId", async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 5; i++) ids.add((await create(byoiTarget("acme", `t${i}`))).json.externalId);
    expect(ids.size).toBe(5);
  });

  it("accept GovCloud and China roles in their own partitions only", async () => {
    const gov = { ...byoiTarget("acme", "gov"), deployRoleArn: "arn:aws-us-gov:iam::123456789012:role/bulkhead-deploy-acme", region: "us-gov-west-1" };
    expect((await create(gov)).status).toBe(201);
    const cn = { ...byoiTarget("acme", "cn"), deployRoleArn: "arn:aws-cn:iam::123456789012:role/bulkhead-deploy-acme", region: "cn-north-1" };
    expect((await create(cn)).status).toBe(201);
    expect((await create({ ...cn, region: "eu-west-1" })).status).toBe(400);
  });
});

describe("listing targets", () => {
  it("pages with org-bound cursors and never reads the ExternalId", async () => {
    const owner = api.tokens.member("pages", "owner");
    expect((await api.call(api.platformHost, "POST", "/v1/orgs", { token: api.tokens.platform(), body: { slug: "pages", name: "Pages" } })).status).toBe(201);
    const secrets: string[] = [];
    for (let i = 0; i < 5; i++) {
      secrets.push((await api.call(api.orgHost("pages"), "POST", "/v1/targets", { token: owner, body: byoiTarget("pages", `p${i}`) })).json.externalId);
    }
    const names: string[] = [];
    let cursor: string | undefined;
    do {
      const reply = await api.call(api.orgHost("pages"), "GET", `/v1/targets?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`, { token: owner });
      expect(reply.json.items.length).toBeLessThanOrEqual(2);
      for (const secret of secrets) expect(reply.text).not.toContain(secret);
      names.push(...reply.json.items.map((t: { name: string }) => t.name));
      cursor = reply.json.cursor;
      if (cursor) {
        const elsewhere = await api.call(host(), "GET", `/v1/targets?cursor=${encodeURIComponent(cursor)}`, { token: admin() });
        expect(elsewhere.status).toBe(400);
      }
    } while (cursor);
    expect(names.sort()).toEqual(["p0", "p1", "p2", "p3", "p4"]);
  });
});

describe("hosted targets", () => {
  it("have no ExternalId, no trust policy, and no AWS fields", async () => {
    const created = await create({ name: "shared", kind: "hosted" });
    expect(created.status, created.text).toBe(201);
    expect(Object.keys(created.json).sort()).toEqual(["createdAt", "id", "kind", "name"]);
    expect((await create({ name: "h", kind: "hosted", accountId: "123456789012" })).status).toBe(400);
  });
});

describe("deleting a target", () => {
  it("is refused while a grant on it is open, and removes its access items once closed", async () => {
    const { id } = (await create(byoiTarget("acme", "doomed"))).json;
    const requested = await api.call(host(), "POST", "/v1/grants", {
      token: api.tokens.platform("operator"), body: { phase: "Install", targetId: id, reason: "r", durationSeconds: 600 },
    });
    const refused = await api.call(host(), "DELETE", `/v1/targets/${id}`, { token: admin() });
    expect(refused.status).toBe(409);
    expect(refused.json.detail).toMatch(/Install grant/);
    await api.call(host(), "POST", `/v1/grants/${requested.json.id}/deny`, { token: admin() });

    expect((await api.call(host(), "DELETE", `/v1/targets/${id}`, { token: admin() })).status).toBe(204);
    const left = (await api.partition("ORG#acme")).filter((item) => item.targetId === id || String(item.SK).includes(id));
    expect(left.map((item) => item.SK)).toEqual([`GRANT#${requested.json.id}`]); // history stays
    expect((await api.call(host(), "GET", `/v1/targets/${id}`, { token: admin() })).status).toBe(404);
    expect((await api.call(host(), "DELETE", `/v1/targets/${id}`, { token: admin() })).status).toBe(404);
  });

  it("of another org is not found", async () => {
    const globex = await api.call(api.orgHost("globex"), "POST", "/v1/targets", { token: api.tokens.member("globex", "admin"), body: byoiTarget("globex", "g") });
    expect((await api.call(host(), "DELETE", `/v1/targets/${globex.json.id}`, { token: admin() })).status).toBe(404);
    expect((await api.call(host(), "GET", `/v1/targets/${globex.json.id}`, { token: admin() })).status).toBe(404);
  });
});

describe("AWS names", () => {
  it("parses role ARNs strictly", () => {
    expect(parseRoleArn("arn:aws:iam::123456789012:role/deploy")).toEqual({ partition: "aws", accountId: "123456789012", path: "/", name: "deploy" });
    expect(parseRoleArn("arn:aws:iam::123456789012:role/a/b/deploy+x=y,z.@-_")).toMatchObject({ path: "/a/b/", name: "deploy+x=y,z.@-_" });
    for (const bad of [
      "arn:aws:iam::123456789012:user/deploy", "arn:aws:iam:us-east-1:123456789012:role/deploy", "arn:aws:iam::12345678901:role/deploy",
      "arn:aws:sts::123456789012:assumed-role/deploy/s", "arn:evil:iam::123456789012:role/deploy", "arn:aws:iam::123456789012:role/",
      `arn:aws:iam::123456789012:role/${"r".repeat(65)}`, "arn:aws:iam::123456789012:role/a#b", " arn:aws:iam::123456789012:role/deploy",
      "arn:aws:iam::123456789012:role/deploy\n",
    ]) expect(parseRoleArn(bad), bad).toBeUndefined();
  });

  it("maps regions to partitions", () => {
    expect(partitionOfRegion("eu-west-1")).toBe("aws");
    expect(partitionOfRegion("cn-northwest-1")).toBe("aws-cn");
    expect(partitionOfRegion("us-gov-east-1")).toBe("aws-us-gov");
  });
});
