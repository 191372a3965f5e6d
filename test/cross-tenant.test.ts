import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MEMBER_ROLES, roleRank } from "../packages/core/src/auth/principal.ts";
import { routes, type RouteDef } from "../packages/core/src/routes.ts";
import { startTestApi, type CallOptions, type Reply, type TestApi } from "./support/api.ts";
import { SAMPLE_SECRET, samples, type SampleRequest } from "./support/samples.ts";

/**
 * Every route × every way a request can come from the wrong place. acme is the host org; globex
 * is "another org" and owns distinctive data that must never appear in an answer on acme's host.
 */
let api: TestApi;
const secretOfGlobex = { name: "globex-private-app-name", value: "globex-credential-plaintext" } as { name: string; value: string; id?: string };

beforeAll(async () => {
  api = await startTestApi();
  const created = await api.call(api.orgHost("globex"), "POST", "/v1/apps", {
    token: api.tokens.member("globex", "owner"),
    body: { name: secretOfGlobex.name },
  });
  secretOfGlobex.id = created.json.id;
  const stored = await api.call(api.orgHost("globex"), "PUT", `/v1/apps/${created.json.id}/credentials/database-url`, {
    token: api.tokens.member("globex", "owner"),
    body: { value: secretOfGlobex.value },
  });
  expect(stored.status).toBe(200);
  const suspend = await api.call(api.platformHost, "POST", "/v1/orgs", { token: api.tokens.platform(), body: { slug: "initech", name: "Initech" } });
  expect(suspend.status).toBe(201);
  expect((await api.call(api.platformHost, "POST", "/v1/orgs/initech/suspend", { token: api.tokens.platform() })).status).toBe(200);
});
afterAll(() => api?.stop());

const allRoutes = routes as readonly RouteDef[];

function expectNoForeignData(reply: Reply) {
  expect(reply.text).not.toContain(secretOfGlobex.name);
  expect(reply.text).not.toContain(secretOfGlobex.id);
  expect(reply.text).not.toContain(secretOfGlobex.value);
  expect(reply.text).not.toContain("ORG#");
}

/** No credential value, of any org, in a reply that is not a runtime route's success. */
function expectNoValue(reply: Reply) {
  expectNoForeignData(reply);
  expect(reply.text).not.toContain(SAMPLE_SECRET);
}

function expectProblem(reply: Reply, status: number) {
  expect(reply.status).toBe(status);
  expect(reply.headers["content-type"]).toBe("application/problem+json");
  expect(reply.json).toMatchObject({ status, type: expect.stringMatching(/^urn:bulkhead:problem:/), requestId: expect.any(String) });
  expectNoValue(reply);
}

/** A token, or how to make one from the sample request (a runtime token names the sample's app). */
type TokenFor = string | undefined | ((sample: SampleRequest) => string);

/** The host and the principal that should succeed on a route. */
function home(route: RouteDef): { host: string; org: string; token?: TokenFor } {
  const access = route.access;
  if ("public" in access) return { host: api.orgHost("acme"), org: "acme" };
  if ("platform" in access) return { host: api.platformHost, org: "acme", token: api.tokens.platform(access.platform[0]) };
  if ("member" in access) return { host: api.orgHost("acme"), org: "acme", token: api.tokens.member("acme", access.member) };
  if ("runtime" in access) return { host: api.orgHost("acme"), org: "acme", token: (sample) => api.tokens.runtime("acme", appOf(sample)) };
  throw new Error(`no home principal for ${route.id}`);
}

function appOf(sample: SampleRequest): string {
  if (!sample.app) throw new Error(`sample for ${sample.path} names no app`);
  return sample.app;
}

async function send(route: RouteDef, host: string, token: TokenFor, extra: CallOptions = {}) {
  const sample = await samples[route.id as keyof typeof samples](api, "acme");
  const bearer = typeof token === "function" ? token(sample) : token;
  return api.call(host, route.method, sample.path, { token: bearer, body: sample.body, ...extra });
}

/** Another app of the host org: real, live, and without the sample's credentials. */
async function otherAcmeApp(): Promise<string> {
  const reply = await api.call(api.orgHost("acme"), "POST", "/v1/apps", { token: api.tokens.member("acme", "owner"), body: { name: "bystander" } });
  expect(reply.status).toBe(201);
  return reply.json.id;
}

describe("every route has a matrix sample", () => {
  it.each(allRoutes.map((r) => [r.id]))("%s", (id) => {
    expect(samples).toHaveProperty(id);
  });
});

describe.each(allRoutes.map((route) => [route.id, route] as const))("%s", (_id, route) => {
  const isPublic = "public" in route.access;
  const onOrgHost = route.host !== "platform";
  const isRuntime = "runtime" in route.access;

  it("succeeds for its own principal on its own host", async () => {
    const { host, token } = home(route);
    const reply = await send(route, host, token);
    expect(reply.status, reply.text).toBe(route.status);
    expectNoForeignData(reply);
    if (isRuntime) expect(reply.json.value).toMatch(new RegExp(`^${SAMPLE_SECRET}-`));
    else expect(reply.text).not.toContain(SAMPLE_SECRET);
  });

  it.skipIf(isPublic)("refuses without a token (401)", async () => {
    const { host } = home(route);
    expectProblem(await send(route, host, undefined), 401);
  });

  it.skipIf(isPublic || !onOrgHost)("refuses another org's token (403), even with every org member role", async () => {
    for (const role of MEMBER_ROLES) {
      expectProblem(await send(route, api.orgHost("acme"), api.tokens.member("globex", role)), 403);
    }
    // Another org's runtime token, even one naming the very app the request concerns.
    expectProblem(await send(route, api.orgHost("acme"), (sample) => api.tokens.runtime("globex", sample.app ?? "a".repeat(26))), 403);
  });

  it.skipIf(isPublic)("ignores spoofed Host-like headers: X-Forwarded-Host, Forwarded, X-Original-Host", async () => {
    const spoof = { "x-forwarded-host": "globex.localhost", forwarded: "host=globex.localhost", "x-original-host": "globex.localhost", "x-forwarded-server": "globex.localhost" };
    if (onOrgHost) {
      expectProblem(await send(route, api.orgHost("acme"), api.tokens.member("globex", "owner"), { headers: spoof }), 403);
      const own = await send(route, api.orgHost("acme"), home(route).token, { headers: spoof });
      expect(own.status, own.text).toBe(route.status);
      expectNoForeignData(own);
      if (isRuntime) {
        const foreignRuntime = (sample: SampleRequest) => api.tokens.runtime("globex", appOf(sample));
        expectProblem(await send(route, api.orgHost("acme"), foreignRuntime, { headers: spoof }), 403);
      }
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
      if (isRuntime) {
        for (const role of MEMBER_ROLES) expectProblem(await send(route, api.orgHost("acme"), api.tokens.member("acme", role)), 403);
      } else {
        expectProblem(await send(route, api.orgHost("acme"), api.tokens.runtime("acme", "a".repeat(26))), 403);
        // Even the runtime of the app the request concerns may not act as a member.
        expectProblem(await send(route, api.orgHost("acme"), (sample) => api.tokens.runtime("acme", sample.app ?? "a".repeat(26))), 403);
      }
    } else {
      expectProblem(await send(route, api.platformHost, api.tokens.member("acme", "owner")), 403);
      expectProblem(await send(route, api.platformHost, api.tokens.runtime("acme", "a".repeat(26))), 403);
    }
  });

  it.skipIf(!isRuntime)("gives a runtime token of another app, or of an unknown app, no value (404)", async () => {
    const bystander = await otherAcmeApp();
    expectProblem(await send(route, api.orgHost("acme"), api.tokens.runtime("acme", bystander)), 404);
    expectProblem(await send(route, api.orgHost("acme"), api.tokens.runtime("acme", secretOfGlobex.id!)), 404);
    expectProblem(await send(route, api.orgHost("acme"), api.tokens.runtime("acme", "b".repeat(26))), 404);
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
