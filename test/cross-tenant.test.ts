import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MEMBER_ROLES, roleRank } from "../packages/core/src/auth/principal.ts";
import { routes } from "../packages/core/src/routes/index.ts";
import type { RouteDef } from "../packages/core/src/routes/types.ts";
import { startTestApi, type CallOptions, type Reply, type TestApi } from "./support/api.ts";
import { putSource } from "./support/deployments.ts";
import {
  activeGrant, auditSettled, byoiTarget, homeOf, newEnrollmentToken, newTarget, SAMPLE_SECRET, samples, sendSample, setOrgLimits, type Credential, type SampleRequest,
} from "./support/samples.ts";

/**
 * Every route × every way a request can come from the wrong place. acme is the host org; globex
 * is "another org" and owns distinctive data that must never appear in an answer on acme's host.
 */
let api: TestApi;
const secretsOfGlobex: string[] = ["globex-private-app-name", "globex-private-target-name", "globex-credential-plaintext"];
let globexApp: string;
let globexEnrollmentToken: string;

beforeAll(async () => {
  api = await startTestApi();
  // The deployment samples keep building while the matrix runs: more at once than the default limit.
  for (const org of ["acme", "globex"]) await setOrgLimits(api, org, { concurrentDeployments: 1000 });
  const owner = api.tokens.member("globex", "owner");
  const app = await api.call(api.orgHost("globex"), "POST", "/v1/apps", { token: owner, body: { name: secretsOfGlobex[0] } });
  const target = await api.call(api.orgHost("globex"), "POST", "/v1/targets", { token: owner, body: byoiTarget("globex", secretsOfGlobex[1]!, "210987654321") });
  expect(target.status).toBe(201);
  globexApp = app.json.id;
  const stored = await api.call(api.orgHost("globex"), "PUT", `/v1/apps/${globexApp}/credentials/database-url`, { token: owner, body: { value: secretsOfGlobex[2] } });
  expect(stored.status).toBe(200);
  secretsOfGlobex.push(globexApp, target.json.id, target.json.externalId, "210987654321");
  // globex's grants of every elevated phase are active: none of them may open acme's host.
  for (const phase of ["Install", "Deploy", "Operate"]) secretsOfGlobex.push(await activeGrant(api, "globex", phase));
  globexEnrollmentToken = await newEnrollmentToken(api, "globex");
  const suspend = await api.call(api.platformHost, "POST", "/v1/orgs", { token: api.tokens.platform(), body: { slug: "initech", name: "Initech" } });
  expect(suspend.status).toBe(201);
  expect((await api.call(api.platformHost, "POST", "/v1/orgs/initech/suspend", { token: api.tokens.platform() })).status).toBe(200);
});
afterAll(() => api?.stop());

const allRoutes = routes as readonly RouteDef[];

function expectNoForeignData(reply: Reply) {
  for (const secret of secretsOfGlobex) expect(reply.text).not.toContain(secret);
  expect(reply.text).not.toContain("ORG#");
}

function expectProblem(reply: Reply, status: number) {
  expect(reply.status).toBe(status);
  expect(reply.headers["content-type"]).toBe("application/problem+json");
  expect(reply.json).toMatchObject({ status, type: expect.stringMatching(/^urn:bulkhead:problem:/), requestId: expect.any(String) });
  expectNoForeignData(reply);
  // No credential value, of any org, in any refusal.
  expect(reply.text).not.toContain(SAMPLE_SECRET);
}

const WELL_FORMED_UNKNOWN_ENROLLMENT = { enrollment: `bhe_${"A".repeat(43)}` };

/** A runtime token of `org` for the app the sample concerns (or any app when it names none). */
const runtimeOfSampleApp = (org: string) => (sample: SampleRequest) => api.tokens.runtime(org, sample.app ?? "a".repeat(26));

/** Another app of the host org: real, live, and without the sample's credentials. */
async function otherAcmeApp(): Promise<string> {
  const reply = await api.call(api.orgHost("acme"), "POST", "/v1/apps", { token: api.tokens.member("acme", "owner"), body: { name: "bystander" } });
  expect(reply.status).toBe(201);
  return reply.json.id;
}

const home = (route: RouteDef) => homeOf(api, route);

async function send(route: RouteDef, host: string, credential: Credential, extra: CallOptions = {}) {
  return sendSample(api, route, await samples[route.id as keyof typeof samples](api, "acme"), host, credential, extra);
}

/** Bearer tokens of every kind; which are the wrong kind depends on the route. */
const bearerKinds = () => ({
  member: api.tokens.member("acme", "owner"),
  platform: api.tokens.platform("platform-admin"),
  runtime: api.tokens.runtime("acme", "a".repeat(26)),
});

function admittedKinds(route: RouteDef): string[] {
  const access = route.access;
  if ("member" in access) return access.vendor ? ["member", "platform"] : ["member"];
  if ("platform" in access) return ["platform"];
  if ("runtime" in access) return ["runtime"];
  return [];
}

describe("every route has a matrix sample", () => {
  it.each(allRoutes.map((r) => [r.id]))("%s", (id) => {
    expect(samples).toHaveProperty(id);
  });
});

describe.each(allRoutes.map((route) => [route.id, route] as const))("%s", (_id, route) => {
  const access = route.access;
  const isPublic = "public" in access;
  const onOrgHost = route.host !== "platform";
  const byEnrollment = "enrollment" in access;
  const isRuntime = "runtime" in access;
  /** Enrollment routes answer every credential they cannot use with 401, bearer routes with 403. */
  const wrongCredential = byEnrollment ? 401 : 403;

  it("succeeds for its own principal on its own host", async () => {
    const { host, credential } = home(route);
    const reply = await send(route, host, credential);
    expect(reply.status, reply.text).toBe(route.status);
    expectNoForeignData(reply);
    // Only a runtime route's success carries a value, and only the host org's own.
    if (isRuntime) expect(reply.json.value).toMatch(new RegExp(`^${SAMPLE_SECRET}-`));
    else expect(reply.text).not.toContain(SAMPLE_SECRET);
  });

  it.skipIf(isPublic)("refuses without a token (401)", async () => {
    const { host } = home(route);
    expectProblem(await send(route, host, undefined), 401);
  });

  it.skipIf(isPublic || !onOrgHost)("refuses another org's token, even with every org member role", async () => {
    for (const role of MEMBER_ROLES) {
      expectProblem(await send(route, api.orgHost("acme"), api.tokens.member("globex", role)), wrongCredential);
    }
    if (byEnrollment) expectProblem(await send(route, api.orgHost("acme"), { enrollment: globexEnrollmentToken }), 401);
    // Another org's runtime token, even one naming the very app the request concerns.
    expectProblem(await send(route, api.orgHost("acme"), runtimeOfSampleApp("globex")), wrongCredential);
  });

  it.skipIf(isPublic)("ignores spoofed Host-like headers: X-Forwarded-Host, Forwarded, X-Original-Host", async () => {
    const spoof = { "x-forwarded-host": "globex.localhost", forwarded: "host=globex.localhost", "x-original-host": "globex.localhost", "x-forwarded-server": "globex.localhost" };
    if (onOrgHost) {
      const foreign: Credential = byEnrollment ? { enrollment: globexEnrollmentToken } : api.tokens.member("globex", "owner");
      expectProblem(await send(route, api.orgHost("acme"), foreign, { headers: spoof }), wrongCredential);
      const own = await send(route, api.orgHost("acme"), home(route).credential, { headers: spoof });
      expect(own.status, own.text).toBe(route.status);
      expectNoForeignData(own);
      if (isRuntime) expectProblem(await send(route, api.orgHost("acme"), runtimeOfSampleApp("globex"), { headers: spoof }), 403);
    } else {
      const toPlatform = { ...spoof, "x-forwarded-host": "localhost", forwarded: "host=localhost" };
      expectProblem(await send(route, api.orgHost("acme"), home(route).credential, { headers: toPlatform }), 404);
    }
  });

  it("refuses an unknown or malformed subdomain (404)", async () => {
    const { credential } = home(route);
    for (const host of ["nosuch.localhost", "www.localhost", "a.b.localhost", "acme.localhost.evil.test", "ACME.localhost"]) {
      const reply = await send(route, host, credential);
      expectProblem(reply, 404);
    }
  });

  it.skipIf(!onOrgHost)("refuses a suspended org's host (403), even with its own token", async () => {
    const credential: Credential = isPublic ? undefined
      : byEnrollment ? WELL_FORMED_UNKNOWN_ENROLLMENT
      : "platform" in access ? api.tokens.platform(access.platform[0])
      : api.tokens.member("initech", "owner");
    const reply = await send(route, api.orgHost("initech"), credential);
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

  it.skipIf(isPublic)(`refuses principals of the wrong kind (${wrongCredential})`, async () => {
    const host = onOrgHost ? api.orgHost("acme") : api.platformHost;
    const wrong = Object.entries(bearerKinds()).filter(([kind]) => !admittedKinds(route).includes(kind));
    expect(wrong.length).toBeGreaterThan(0);
    for (const [, token] of wrong) expectProblem(await send(route, host, token), wrongCredential);
    if (isRuntime) {
      for (const role of MEMBER_ROLES) expectProblem(await send(route, host, api.tokens.member("acme", role)), 403);
    } else if (onOrgHost) {
      // Even the runtime of the app the request concerns may not act as a member.
      expectProblem(await send(route, host, runtimeOfSampleApp("acme")), wrongCredential);
    }
  });

  it.skipIf(!isRuntime)("gives a runtime token of another app, or of an unknown app, no value (404)", async () => {
    const bystander = await otherAcmeApp();
    expectProblem(await send(route, api.orgHost("acme"), api.tokens.runtime("acme", bystander)), 404);
    expectProblem(await send(route, api.orgHost("acme"), api.tokens.runtime("acme", globexApp)), 404);
    expectProblem(await send(route, api.orgHost("acme"), api.tokens.runtime("acme", "b".repeat(26))), 404);
  });

  it.skipIf(isPublic)("is not served on the other kind of host (404)", async () => {
    const host = onOrgHost ? api.platformHost : api.orgHost("acme");
    const token = onOrgHost ? api.tokens.platform() : api.tokens.member("acme", "owner");
    expectProblem(await send(route, host, token), 404);
  });

  const vendor = "member" in access ? access.vendor : undefined;
  const phase = vendor && "underGrant" in vendor ? vendor.underGrant : undefined;

  if (vendor && !phase) it("admits platform tokens of every role without a grant (a grant route)", async () => {
    for (const role of ["operator", "platform-admin"] as const) {
      const reply = await send(route, api.orgHost("acme"), api.tokens.platform(role));
      expect(reply.status, reply.text).toBe(route.status);
    }
  });

  if (phase === "Observe") it("admits platform tokens only while the org has not revoked Observe", async () => {
    const owner = api.tokens.member("acme", "owner");
    const operator = api.tokens.platform("operator");
    expect((await api.call(api.orgHost("acme"), "POST", "/v1/grants/observe/revoke", { token: owner })).status).toBe(200);
    try {
      // globex's Observe is on; it opens nothing on acme's host, for any platform role.
      expectProblem(await send(route, api.orgHost("acme"), operator), 403);
      expectProblem(await send(route, api.orgHost("acme"), api.tokens.platform("platform-admin")), 403);
    } finally {
      expect((await api.call(api.orgHost("acme"), "POST", "/v1/grants/observe/approve", { token: owner })).status).toBe(200);
    }
    const admitted = await send(route, api.orgHost("acme"), operator);
    expect(admitted.status, admitted.text).toBe(route.status);
    expectNoForeignData(admitted);
  });

  if (phase && phase !== "Observe") it(`admits platform tokens only under an active ${phase} grant of this org`, async () => {
    const operator = api.tokens.platform("operator");
    // globex has an active grant of every phase: refused all the same.
    expectProblem(await send(route, api.orgHost("acme"), operator), 403);
    const reply = await api.call(api.orgHost("acme"), "POST", "/v1/grants", {
      token: operator, body: { phase, targetId: await newTarget(api, "acme"), reason: "matrix", durationSeconds: 600 },
    });
    expect(reply.status, reply.text).toBe(201);
    expectProblem(await send(route, api.orgHost("acme"), operator), 403); // pending is not active
    const owner = api.tokens.member("acme", "owner");
    expect((await api.call(api.orgHost("acme"), "POST", `/v1/grants/${reply.json.id}/approve`, { token: owner })).status).toBe(200);
    const admitted = await send(route, api.orgHost("acme"), operator);
    expect(admitted.status, admitted.text).toBe(route.status);
    expectNoForeignData(admitted);
    expect((await api.call(api.orgHost("acme"), "POST", `/v1/grants/${reply.json.id}/revoke`, { token: owner })).status).toBe(200);
    expectProblem(await send(route, api.orgHost("acme"), operator), 403);
  });
});

describe("references across apps and orgs", () => {
  it("a deployment names only its own app's sources: another app's or another org's ref of the same name is not found", async () => {
    const developer = api.tokens.member("acme", "developer");
    const [own, sibling] = [await otherAcmeApp(), await otherAcmeApp()];
    const globexApp = (await api.call(api.orgHost("globex"), "POST", "/v1/apps", { token: api.tokens.member("globex", "owner"), body: { name: "g" } })).json.id;
    await putSource(api, "globex", globexApp, "theirs");
    await putSource(api, "acme", sibling, "siblings");
    for (const ref of ["theirs", "siblings"]) {
      const reply = await api.call(api.orgHost("acme"), "POST", `/v1/apps/${own}/deployments`, { token: developer, body: { source: { ref } } });
      expectProblem(reply, 400);
      expect(reply.json.detail).toContain(`No source "${ref}"`);
    }
    // globex's app on acme's host is no app of acme's, for its sources as for its deployments.
    expectProblem(await api.call(api.orgHost("acme"), "GET", `/v1/apps/${globexApp}/sources`, { token: developer }), 404);
    expectProblem(await api.call(api.orgHost("acme"), "POST", `/v1/apps/${globexApp}/deployments`, { token: developer, body: { source: { ref: "theirs" } } }), 404);
    const listed = await api.call(api.orgHost("acme"), "GET", `/v1/apps/${own}/sources`, { token: developer });
    expect(listed.json.items).toEqual([]);
  });
});

describe("the audit chain after the whole matrix", () => {
  it("holds acme's refusals of platform tokens, and nothing of another org", async () => {
    await auditSettled(api, "acme");
    const chain = (await api.partition("ORG#acme#AUDIT")).filter((item) => String(item.SK).startsWith("SEQ#"));
    expect(chain.some((e) => e.actor.kind === "platform" && e.outcome.result === "denied")).toBe(true);
    // System actors (the deployment workflow, the object store's upload notifications) act on acme's own keys only.
    expect(chain.every((e) => e.org === "acme" && (e.actor.kind === "platform" || e.actor.kind === "system" || e.actor.org === "acme"))).toBe(true);
    expect(JSON.stringify(chain)).not.toContain("globex");
    const verified = await api.call(api.orgHost("acme"), "GET", "/v1/audit/verify", { token: api.tokens.member("acme", "admin") });
    // Workflows the matrix started may still be recording their steps: the log only grows.
    expect(verified.json).toMatchObject({ ok: true });
    expect(verified.json.entries).toBeGreaterThanOrEqual(chain.length);
  });
});
