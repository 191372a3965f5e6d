import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MEMBER_ROLES, roleRank } from "../packages/core/src/auth/principal.ts";
import { routes, type RouteDef } from "../packages/core/src/routes.ts";
import { startTestApi, type CallOptions, type Reply, type TestApi } from "./support/api.ts";
import { samples } from "./support/samples.ts";

/**
 * Every route × every way a request can come from the wrong place. acme is the host org; globex
 * is "another org" and owns distinctive data that must never appear in an answer on acme's host.
 */
let api: TestApi;
const secretOfGlobex = { name: "globex-private-app-name" } as { name: string; id?: string };

beforeAll(async () => {
  api = await startTestApi();
  const created = await api.call(api.orgHost("globex"), "POST", "/v1/apps", {
    token: api.tokens.member("globex", "owner"),
    body: { name: secretOfGlobex.name },
  });
  secretOfGlobex.id = created.json.id;
  const suspend = await api.call(api.platformHost, "POST", "/v1/orgs", { token: api.tokens.platform(), body: { slug: "initech", name: "Initech" } });
  expect(suspend.status).toBe(201);
  expect((await api.call(api.platformHost, "POST", "/v1/orgs/initech/suspend", { token: api.tokens.platform() })).status).toBe(200);
});
afterAll(() => api?.stop());

const allRoutes = routes as readonly RouteDef[];

function expectNoForeignData(reply: Reply) {
  expect(reply.text).not.toContain(secretOfGlobex.name);
  expect(reply.text).not.toContain(secretOfGlobex.id);
  expect(reply.text).not.toContain("ORG#");
}

function expectProblem(reply: Reply, status: number) {
  expect(reply.status).toBe(status);
  expect(reply.headers["content-type"]).toBe("application/problem+json");
  expect(reply.json).toMatchObject({ status, type: expect.stringMatching(/^urn:bulkhead:problem:/), requestId: expect.any(String) });
  expectNoForeignData(reply);
}

/** The host and the principal that should succeed on a route. */
function home(route: RouteDef): { host: string; org: string; token?: string } {
  const access = route.access;
  if ("public" in access) return { host: api.orgHost("acme"), org: "acme" };
  if ("platform" in access) return { host: api.platformHost, org: "acme", token: api.tokens.platform(access.platform[0]) };
  if ("member" in access) return { host: api.orgHost("acme"), org: "acme", token: api.tokens.member("acme", access.member) };
  throw new Error(`no home principal for ${route.id}`);
}

async function send(route: RouteDef, host: string, token: string | undefined, extra: CallOptions = {}) {
  const sample = await samples[route.id as keyof typeof samples](api, "acme");
  return api.call(host, route.method, sample.path, { token, body: sample.body, ...extra });
}

describe("every route has a matrix sample", () => {
  it.each(allRoutes.map((r) => [r.id]))("%s", (id) => {
    expect(samples).toHaveProperty(id);
  });
});

describe.each(allRoutes.map((route) => [route.id, route] as const))("%s", (_id, route) => {
  const isPublic = "public" in route.access;
  const onOrgHost = route.host !== "platform";

  it("succeeds for its own principal on its own host", async () => {
    const { host, token } = home(route);
    const reply = await send(route, host, token);
    expect(reply.status, reply.text).toBe(route.status);
    expectNoForeignData(reply);
  });

  it.skipIf(isPublic)("refuses without a token (401)", async () => {
    const { host } = home(route);
    expectProblem(await send(route, host, undefined), 401);
  });

  it.skipIf(isPublic || !onOrgHost)("refuses another org's token (403), even with every org member role", async () => {
    for (const role of MEMBER_ROLES) {
      expectProblem(await send(route, api.orgHost("acme"), api.tokens.member("globex", role)), 403);
    }
  });

  it.skipIf(isPublic)("ignores spoofed Host-like headers: X-Forwarded-Host, Forwarded, X-Original-Host", async () => {
    const spoof = { "x-forwarded-host": "globex.localhost", forwarded: "host=globex.localhost", "x-original-host": "globex.localhost", "x-forwarded-server": "globex.localhost" };
    if (onOrgHost) {
      expectProblem(await send(route, api.orgHost("acme"), api.tokens.member("globex", "owner"), { headers: spoof }), 403);
      const own = await send(route, api.orgHost("acme"), home(route).token, { headers: spoof });
      expect(own.status, own.text).toBe(route.status);
      expectNoForeignData(own);
    } else {
      const toPlatform = { ...spoof, "x-forwarded-host": "localhost", forwarded: "host=localhost" };
      expectProblem(await send(route, api.orgHost("acme"), home(route).token, { headers: toPlatform }), 404);
    }
  });

  it("refuses an unknown or malformed subdomain (404)", async () => {
    const { token } = home(route);
    for (const host of ["nosuch.localhost", "www.localhost", "a.b.localhost", "acme.localhost.evil.test", "ACME.localhost"]) {
      const reply = await send(route, host, token);
      expectProblem(reply, 404);
    }
  });

  it.skipIf(!onOrgHost)("refuses a suspended org's host (403), even with its own token", async () => {
    const token = isPublic ? undefined : api.tokens.member("initech", "owner");
    const reply = await send(route, api.orgHost("initech"), token);
    expectProblem(reply, 403);
    expect(reply.json.type).toBe("urn:bulkhead:problem:org-suspended");
  });

  it.skipIf(isPublic)("refuses a role below the route's minimum (403)", async () => {
    const access = route.access;
    const lower: string[] = [];
    if ("member" in access) {
      for (const role of MEMBER_ROLES.filter((r) => roleRank(r) < roleRank(access.member))) {
        expectProblem(await send(route, api.orgHost("acme"), api.tokens.member("acme", role)), 403);
        lower.push(role);
      }
      expect(lower.length).toBe(roleRank(access.member));
    }
    if ("platform" in access && !access.platform.includes("operator")) {
      expectProblem(await send(route, api.platformHost, api.tokens.platform("operator")), 403);
    }
  });

  it.skipIf(isPublic)("refuses principals of the wrong kind (403)", async () => {
    if (onOrgHost) {
      expectProblem(await send(route, api.orgHost("acme"), api.tokens.platform("platform-admin")), 403);
      expectProblem(await send(route, api.orgHost("acme"), api.tokens.runtime("acme", "a".repeat(26))), 403);
    } else {
      expectProblem(await send(route, api.platformHost, api.tokens.member("acme", "owner")), 403);
      expectProblem(await send(route, api.platformHost, api.tokens.runtime("acme", "a".repeat(26))), 403);
    }
  });

  it.skipIf(isPublic)("is not served on the other kind of host (404)", async () => {
    const host = onOrgHost ? api.platformHost : api.orgHost("acme");
    const token = onOrgHost ? api.tokens.platform() : api.tokens.member("acme", "owner");
    expectProblem(await send(route, host, token), 404);
  });
});

describe("the audit chain after the whole matrix", () => {
  it("holds acme's refusals of platform tokens, and nothing of another org", async () => {
    const chain = (await api.partition("ORG#acme#AUDIT")).filter((item) => String(item.SK).startsWith("SEQ#"));
    expect(chain.some((e) => e.actor.kind === "platform" && e.outcome.result === "denied")).toBe(true);
    expect(chain.every((e) => e.org === "acme" && (e.actor.kind === "platform" || e.actor.org === "acme"))).toBe(true);
    expect(JSON.stringify(chain)).not.toContain("globex");
    const verified = await api.call(api.orgHost("acme"), "GET", "/v1/audit/verify", { token: api.tokens.member("acme", "admin") });
    expect(verified.json).toMatchObject({ ok: true, entries: chain.length });
  });
});
