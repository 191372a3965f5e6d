import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, type TestApi } from "./support/api.ts";
import { newApp, putSource, startDeployment } from "./support/deployments.ts";
import { activeGrant, byoiTarget } from "./support/samples.ts";

/**
 * Every paginated listing binds its cursors to itself: a cursor minted by one listing is a 400
 * in any other listing of the same org (never passed on to DynamoDB, where it would be a 500).
 */
let api: TestApi;
const listings: Record<string, string> = {};
const cursors: Record<string, string> = {};

beforeAll(async () => {
  api = await startTestApi();
  const owner = api.tokens.member("acme", "owner");
  const host = api.orgHost("acme");
  const [app, other] = [await newApp(api, "acme"), await newApp(api, "acme")];
  for (const name of ["one", "two"]) {
    expect((await api.call(host, "PUT", `/v1/apps/${app}/credentials/${name}`, { token: owner, body: { value: `v-${name}` } })).status).toBe(200);
  }
  await putSource(api, "acme", app, "v1");
  await putSource(api, "acme", app, "v2");
  await putSource(api, "acme", other, "v1");
  for (const key of ["first", "second"]) expect((await startDeployment(api, "acme", app, undefined, { "idempotency-key": key })).status).toBe(202);
  for (const name of ["t1", "t2"]) {
    expect((await api.call(host, "POST", "/v1/targets", { token: owner, body: byoiTarget("acme", name) })).status).toBe(201);
  }
  await activeGrant(api, "acme", "Deploy");
  await activeGrant(api, "acme", "Operate");

  Object.assign(listings, {
    apps: "/v1/apps",
    credentials: `/v1/apps/${app}/credentials`,
    otherAppCredentials: `/v1/apps/${other}/credentials`,
    deployments: `/v1/apps/${app}/deployments`,
    otherAppDeployments: `/v1/apps/${other}/deployments`,
    sources: `/v1/apps/${app}/sources`,
    otherAppSources: `/v1/apps/${other}/sources`,
    targets: "/v1/targets",
    grants: "/v1/grants",
    audit: "/v1/audit",
  });
  for (const [name, path] of Object.entries(listings)) {
    const page = await api.call(host, "GET", `${path}?limit=1`, { token: owner });
    expect(page.status, `${name}: ${page.text}`).toBe(200);
    if (page.json.cursor) cursors[name] = page.json.cursor;
  }
});
afterAll(() => api?.stop());

describe("cursors are bound to their listing", () => {
  it("each listing with more than one item pages with its own cursor", async () => {
    for (const name of ["apps", "credentials", "deployments", "sources", "targets", "grants", "audit"]) {
      expect(cursors[name], name).toBeTruthy();
      const next = await api.call(api.orgHost("acme"), "GET", `${listings[name]}?limit=1&cursor=${encodeURIComponent(cursors[name]!)}`, {
        token: api.tokens.member("acme", "owner"),
      });
      expect(next.status, `${name}: ${next.text}`).toBe(200);
    }
  });

  it("refuses another listing's cursor with 400 invalid-cursor, in every pairing", async () => {
    for (const [from, cursor] of Object.entries(cursors)) {
      for (const [to, path] of Object.entries(listings)) {
        if (from === to) continue;
        const reply = await api.call(api.orgHost("acme"), "GET", `${path}?cursor=${encodeURIComponent(cursor)}`, {
          token: api.tokens.member("acme", "owner"),
        });
        expect(reply.status, `${from} cursor on ${to}: ${reply.text}`).toBe(400);
        expect(reply.json.type).toBe("urn:bulkhead:problem:invalid-cursor");
      }
    }
  });
});
