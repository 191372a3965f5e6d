import { pendingAudit } from "../../packages/core/src/audit/chain.ts";
import { customerDeployRoleName } from "../../packages/core/src/iam/deploy-role-name.ts";
import type { RouteId } from "../../packages/core/src/routes/index.ts";
import type { RouteDef } from "../../packages/core/src/routes/types.ts";
import type { CallOptions, GatewayClient, Reply } from "../../packages/local/src/client.ts";
import type { Offline } from "../../packages/local/src/runtime.ts";
import { putSource } from "./deployments.ts";

/**
 * How to call each route for the cross-tenant matrix: a request that succeeds for the host
 * org's principal. Every route in the route table must have one (the matrix test checks), so a
 * new route cannot skip the matrix. Enrollment routes also get a fresh token of `org`.
 */
export type SampleRequest = {
  path: string;
  body?: unknown;
  /** The app the request concerns, when it made one: runtime routes succeed with this app's runtime token. */
  app?: string;
  /** Enrollment routes: a fresh enrollment token of the org. */
  enrollmentToken?: string;
};
/** Samples speak HTTP like any client; deployment samples also upload a source to the offline store. */
export type SampleApi = GatewayClient & { offline: Offline };
export type Sample = (api: SampleApi, org: string) => Promise<SampleRequest>;

/** Every credential value a sample stores starts with this, so the matrix can look for leaks. */
export const SAMPLE_SECRET = "matrix-plaintext-value";

const expectStatus = (reply: Reply, status: number): Reply => {
  if (reply.status !== status) throw new Error(`sample setup failed: ${reply.status} ${reply.text}`);
  return reply;
};

const newApp = async (api: GatewayClient, org: string): Promise<string> =>
  expectStatus(await api.call(api.orgHost(org), "POST", "/v1/apps", {
    token: api.tokens.member(org, "owner"),
    body: { name: `matrix-${org}` },
  }), 201).json.id;

/** A BYOI target of `org`, its deploy role named by the convention (iam/deploy-role-name.ts). */
export const byoiTarget = (org: string, name: string, accountId = "123456789012") => ({
  name, kind: "byoi", accountId, deployRoleArn: `arn:aws:iam::${accountId}:role/${customerDeployRoleName(org)}`, region: "eu-west-1",
});

export const newTarget = async (api: GatewayClient, org: string): Promise<string> =>
  expectStatus(await api.call(api.orgHost(org), "POST", "/v1/targets", {
    token: api.tokens.member(org, "owner"), body: byoiTarget(org, `matrix-target-${org}`),
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

/**
 * Waits until every audit record of `org` committed so far is sequenced (through the API, as a
 * client waiting for its own record would), and returns the log's newest seq.
 */
export async function auditSettled(api: GatewayClient, org: string, timeoutMs = 15_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const reply = expectStatus(await api.call(api.orgHost(org), "GET", "/v1/audit?limit=1", { token: api.tokens.member(org, "admin") }), 200);
    if (reply.json.pending === 0) return reply.json.items[0]?.seq ?? 0;
    if (Date.now() > deadline) throw new Error(`audit of ${org} still has ${reply.json.pending} pending record(s)`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Makes sure the org's log has an entry (an audited app creation), sequenced; returns the log's size. */
const loggedSomething = async (api: GatewayClient, org: string): Promise<number> => (await newApp(api, org), auditSettled(api, org));

/** Stores a credential (system scope, or user scope for `sub`) with an owner token; returns its app. */
const newCredential = async (api: GatewayClient, org: string, name: string, sub?: string): Promise<string> => {
  const app = await newApp(api, org);
  const path = sub ? `/v1/apps/${app}/users/${sub}/credentials/${name}` : `/v1/apps/${app}/credentials/${name}`;
  expectStatus(await api.call(api.orgHost(org), "PUT", path, { token: api.tokens.member(org, "owner"), body: { value: `${SAMPLE_SECRET}-${name}` } }), 200);
  return app;
};
/** The subject of the default viewer token, `tokens.member(org, "viewer")`: it may manage its own user credentials. */
const viewerSub = (org: string) => `viewer-of-${org}`;

/**
 * A deployment that stays active long enough to be cancelled: its build sleeps. Builds of samples
 * that are never cancelled are destroyed when the API stops.
 */
const newDeployment = async (api: SampleApi, org: string): Promise<{ appId: string; id: string }> => {
  const owner = api.tokens.member(org, "owner");
  const app = expectStatus(await api.call(api.orgHost(org), "POST", "/v1/apps", { token: owner, body: { name: `matrix-${org}`, build: { command: "sleep 20" } } }), 201);
  await putSource(api, org, app.json.id, "v1");
  const deployment = expectStatus(await api.call(api.orgHost(org), "POST", `/v1/apps/${app.json.id}/deployments`, { token: owner, body: { source: { ref: "v1" } } }), 202);
  return { appId: app.json.id, id: deployment.json.id };
};

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
  "orgs.update": async (api) => ({ path: `/v1/orgs/${await newOrg(api)}`, body: { limits: { apps: 50, requestsPerSecond: null } } }),
  "orgs.suspend": async (api) => ({ path: `/v1/orgs/${await newOrg(api)}/suspend` }),
  "orgs.resume": async (api) => ({ path: `/v1/orgs/${await newOrg(api)}/resume` }),
  "targets.create": async (_api, org) => ({ path: "/v1/targets", body: byoiTarget(org, "matrix-created") }),
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
  "apps.rotate": async (api, org) => {
    const app = await newCredential(api, org, "rotated");
    return { path: `/v1/apps/${app}/rotate`, app };
  },
  "sources.create": async (api, org) => {
    const app = await newApp(api, org);
    return { path: `/v1/apps/${app}/sources`, body: { ref: "matrix", sha256: "a".repeat(64), size: 10 }, app };
  },
  "sources.list": async (api, org) => {
    const app = await newApp(api, org);
    await putSource(api, org, app, "listed");
    return { path: `/v1/apps/${app}/sources`, app };
  },
  "credentials.list": async (api, org) => {
    const app = await newCredential(api, org, "listed");
    return { path: `/v1/apps/${app}/credentials`, app };
  },
  "credentials.put": async (api, org) => {
    const app = await newApp(api, org);
    return { path: `/v1/apps/${app}/credentials/api-key`, body: { value: `${SAMPLE_SECRET}-put` }, app };
  },
  "credentials.delete": async (api, org) => {
    const app = await newCredential(api, org, "doomed");
    return { path: `/v1/apps/${app}/credentials/doomed`, app };
  },
  "credentials.put-user": async (api, org) => {
    const app = await newApp(api, org);
    return { path: `/v1/apps/${app}/users/${viewerSub(org)}/credentials/oauth`, body: { value: `${SAMPLE_SECRET}-put-user` }, app };
  },
  "credentials.delete-user": async (api, org) => {
    const app = await newCredential(api, org, "doomed", viewerSub(org));
    return { path: `/v1/apps/${app}/users/${viewerSub(org)}/credentials/doomed`, app };
  },
  "runtime.get-credential": async (api, org) => {
    const app = await newCredential(api, org, "database-url");
    return { path: "/v1/runtime/credentials/database-url", app };
  },
  "runtime.get-user-credential": async (api, org) => {
    const app = await newCredential(api, org, "refresh-token", "alice");
    return { path: "/v1/runtime/users/alice/credentials/refresh-token", app };
  },
  "audit.list": async () => ({ path: "/v1/audit?limit=5&action=apps.create" }),
  "audit.verify": async () => ({ path: "/v1/audit/verify" }),
  "audit.export": async () => ({ path: "/v1/audit/export?limit=50" }),
  "audit.checkpoints": async () => ({ path: "/v1/audit/checkpoints" }),
  "audit.heads": async () => ({ path: "/v1/audit/heads" }),
  "audit.inclusion": async (api, org) => ({ path: `/v1/audit/proof/inclusion?seq=1&treeSize=${await loggedSomething(api, org)}` }),
  "audit.consistency": async (api, org) => ({ path: `/v1/audit/proof/consistency?from=1&to=${await loggedSomething(api, org)}` }),
  "deployments.create": async (api, org) => {
    const app = await newApp(api, org);
    await putSource(api, org, app, "v1");
    return { path: `/v1/apps/${app}/deployments`, body: { source: { ref: "v1" } }, app };
  },
  "deployments.list": async (api, org) => ({ path: `/v1/apps/${(await newDeployment(api, org)).appId}/deployments` }),
  "deployments.get": async (api, org) => {
    const { appId, id } = await newDeployment(api, org);
    return { path: `/v1/apps/${appId}/deployments/${id}` };
  },
  "deployments.cancel": async (api, org) => {
    const { appId, id } = await newDeployment(api, org);
    return { path: `/v1/apps/${appId}/deployments/${id}/cancel` };
  },
  "openapi.get": async () => ({ path: "/openapi.json" }),
};

/**
 * A bearer token, a bearer token made from the sample (a runtime token names the sample's app),
 * an enrollment token (`own`: the sample's fresh one), or nothing.
 */
export type Credential = string | ((sample: SampleRequest) => string) | { enrollment: string } | undefined;
const OWN_ENROLLMENT = { enrollment: "own" };

/** The host and the credential with which a route's sample for acme succeeds. */
export function homeOf(api: GatewayClient, route: RouteDef): { host: string; credential: Credential } {
  const access = route.access;
  const orgHost = api.orgHost("acme");
  if ("public" in access) return { host: orgHost, credential: undefined };
  if ("enrollment" in access) return { host: orgHost, credential: OWN_ENROLLMENT };
  if ("platform" in access) return { host: route.host === "org" ? orgHost : api.platformHost, credential: api.tokens.platform(access.platform[0]) };
  if ("member" in access) return { host: orgHost, credential: api.tokens.member("acme", access.member) };
  if ("runtime" in access) return { host: orgHost, credential: (sample) => api.tokens.runtime("acme", appOf(sample)) };
  throw new Error(`no home principal for ${route.id}`);
}

function appOf(sample: SampleRequest): string {
  if (!sample.app) throw new Error(`sample for ${sample.path} names no app`);
  return sample.app;
}

/** Sends a route's sample with `credential` to `host`. */
export function sendSample(api: GatewayClient, route: RouteDef, sample: SampleRequest, host: string, credential: Credential, extra: CallOptions = {}) {
  const auth: CallOptions =
    typeof credential === "string" ? { token: credential }
    : typeof credential === "function" ? { token: credential(sample) }
    : credential ? { headers: { authorization: `Enrollment ${credential.enrollment === "own" ? sample.enrollmentToken : credential.enrollment}` } }
    : {};
  return api.call(host, route.method, sample.path, { body: sample.body, ...auth, ...extra, headers: { ...auth.headers, ...extra.headers } });
}

/** Sets an org's limits as a platform admin does (PATCH /v1/orgs/{slug}); returns the org as the API shows it. */
export const setOrgLimits = async (api: GatewayClient, org: string, limits: Record<string, number | null>) =>
  expectStatus(await api.call(api.platformHost, "PATCH", `/v1/orgs/${org}`, { token: api.tokens.platform(), body: { limits } }), 200).json;

/** The audit of a change a test makes by calling a service directly, as a system actor. */
export const systemAudit = (action: string) => pendingAudit({ actor: { kind: "system", sub: "test" }, action, requestId: "test" });
