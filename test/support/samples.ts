import type { RouteId } from "../../packages/core/src/routes.ts";
import type { GatewayClient, Reply } from "../../packages/local/src/client.ts";

/**
 * How to call each route for the cross-tenant matrix: a request that succeeds for the host
 * org's principal. Every route in the route table must have one (the matrix test checks), so a
 * new route cannot skip the matrix. Enrollment routes also get a fresh token of `org`.
 */
export type Sample = (api: GatewayClient, org: string) => Promise<{ path: string; body?: unknown; enrollmentToken?: string }>;

const expectStatus = (reply: Reply, status: number): Reply => {
  if (reply.status !== status) throw new Error(`sample setup failed: ${reply.status} ${reply.text}`);
  return reply;
};

const newApp = async (api: GatewayClient, org: string): Promise<string> =>
  expectStatus(await api.call(api.orgHost(org), "POST", "/v1/apps", {
    token: api.tokens.member(org, "owner"),
    body: { name: `matrix-${org}` },
  }), 201).json.id;

export const byoiTarget = (name: string, accountId = "123456789012") => ({
  name, kind: "byoi", accountId, deployRoleArn: `arn:aws:iam::${accountId}:role/bulkhead-deploy`, region: "eu-west-1",
});

export const newTarget = async (api: GatewayClient, org: string): Promise<string> =>
  expectStatus(await api.call(api.orgHost(org), "POST", "/v1/targets", {
    token: api.tokens.member(org, "owner"), body: byoiTarget(`matrix-target-${org}`),
  }), 201).json.id;

/** A PENDING grant on a fresh target, requested by a platform operator. */
export const newGrant = async (api: GatewayClient, org: string, phase = "Deploy"): Promise<string> =>
  expectStatus(await api.call(api.orgHost(org), "POST", "/v1/grants", {
    token: api.tokens.platform("operator"),
    body: { phase, targetId: await newTarget(api, org), reason: "matrix", durationSeconds: 3600 },
  }), 201).json.id;

/** An ACTIVE grant: requested by an operator, approved by the org's owner. */
export const activeGrant = async (api: GatewayClient, org: string, phase = "Deploy"): Promise<string> => {
  const id = await newGrant(api, org, phase);
  expectStatus(await api.call(api.orgHost(org), "POST", `/v1/grants/${id}/approve`, { token: api.tokens.member(org, "owner") }), 200);
  return id;
};

export const newEnrollmentToken = async (api: GatewayClient, org: string, body: object = {}): Promise<string> =>
  expectStatus(await api.call(api.orgHost(org), "POST", "/v1/enrollments", { token: api.tokens.member(org, "admin"), body }), 201).json.token;

let orgCounter = 0;
const newOrg = async (api: GatewayClient): Promise<string> => {
  const slug = `matrix-org-${process.pid}-${++orgCounter}`;
  expectStatus(await api.call(api.platformHost, "POST", "/v1/orgs", { token: api.tokens.platform(), body: { slug, name: slug } }), 201);
  return slug;
};

export const samples: Record<RouteId, Sample> = {
  "org.get": async () => ({ path: "/v1/org" }),
  "apps.create": async () => ({ path: "/v1/apps", body: { name: "matrix-created" } }),
  "apps.list": async () => ({ path: "/v1/apps" }),
  "apps.get": async (api, org) => ({ path: `/v1/apps/${await newApp(api, org)}` }),
  "apps.update": async (api, org) => ({ path: `/v1/apps/${await newApp(api, org)}`, body: { name: "renamed" } }),
  "apps.delete": async (api, org) => ({ path: `/v1/apps/${await newApp(api, org)}` }),
  "orgs.create": async () => ({ path: "/v1/orgs", body: { slug: `created-${process.pid}-${++orgCounter}`, name: "n" } }),
  "orgs.get": async (api) => ({ path: `/v1/orgs/${await newOrg(api)}` }),
  "orgs.suspend": async (api) => ({ path: `/v1/orgs/${await newOrg(api)}/suspend` }),
  "orgs.resume": async (api) => ({ path: `/v1/orgs/${await newOrg(api)}/resume` }),
  "targets.create": async () => ({ path: "/v1/targets", body: byoiTarget("matrix-created") }),
  "targets.list": async () => ({ path: "/v1/targets" }),
  "targets.get": async (api, org) => ({ path: `/v1/targets/${await newTarget(api, org)}` }),
  "targets.delete": async (api, org) => ({ path: `/v1/targets/${await newTarget(api, org)}` }),
  "enrollments.create": async () => ({ path: "/v1/enrollments", body: { ttlSeconds: 600 } }),
  "appliances.enroll": async (api, org) => ({ path: "/v1/enroll", body: { name: "matrix-appliance" }, enrollmentToken: await newEnrollmentToken(api, org) }),
  "grants.list": async () => ({ path: "/v1/grants" }),
  "grants.request": async (api, org) => ({
    path: "/v1/grants", body: { phase: "Deploy", targetId: await newTarget(api, org), reason: "matrix", durationSeconds: 3600 },
  }),
  "grants.approve": async (api, org) => ({ path: `/v1/grants/${await newGrant(api, org)}/approve` }),
  "grants.deny": async (api, org) => ({ path: `/v1/grants/${await newGrant(api, org)}/deny` }),
  "grants.revoke": async (api, org) => ({ path: `/v1/grants/${await activeGrant(api, org)}/revoke` }),
  "openapi.get": async () => ({ path: "/openapi.json" }),
};
