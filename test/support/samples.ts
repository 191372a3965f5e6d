import type { RouteId } from "../../packages/core/src/routes.ts";
import type { TestApi } from "./api.ts";
import { putSource } from "./deployments.ts";

/**
 * How to call each route for the cross-tenant matrix: a request that succeeds for the host
 * org's principal. Every route in the route table must have one (the matrix test checks), so a
 * new route cannot skip the matrix.
 */
export type Sample = (api: TestApi, org: string) => Promise<{ path: string; body?: unknown }>;

const newApp = async (api: TestApi, org: string): Promise<string> => {
  const reply = await api.call(api.orgHost(org), "POST", "/v1/apps", {
    token: api.tokens.member(org, "owner"),
    body: { name: `matrix-${org}` },
  });
  if (reply.status !== 201) throw new Error(`sample setup failed: ${reply.status} ${reply.text}`);
  return reply.json.id;
};

/**
 * A deployment that stays active long enough to be cancelled: its build sleeps. Builds of samples
 * that are never cancelled are destroyed when the API stops.
 */
const newDeployment = async (api: TestApi, org: string): Promise<{ appId: string; id: string }> => {
  const owner = api.tokens.member(org, "owner");
  const app = await api.call(api.orgHost(org), "POST", "/v1/apps", { token: owner, body: { name: `matrix-${org}`, build: { command: "sleep 20" } } });
  if (app.status !== 201) throw new Error(`sample setup failed: ${app.status} ${app.text}`);
  putSource(api, org, app.json.id, "v1");
  const deployment = await api.call(api.orgHost(org), "POST", `/v1/apps/${app.json.id}/deployments`, { token: owner, body: { source: { ref: "v1" } } });
  if (deployment.status !== 202) throw new Error(`sample setup failed: ${deployment.status} ${deployment.text}`);
  return { appId: app.json.id, id: deployment.json.id };
};

let orgCounter = 0;
const newOrg = async (api: TestApi): Promise<string> => {
  const slug = `matrix-org-${process.pid}-${++orgCounter}`;
  const reply = await api.call(api.platformHost, "POST", "/v1/orgs", { token: api.tokens.platform(), body: { slug, name: slug } });
  if (reply.status !== 201) throw new Error(`sample setup failed: ${reply.status} ${reply.text}`);
  return slug;
};

export const samples: Record<RouteId, Sample> = {
  "org.get": async () => ({ path: "/v1/org" }),
  "apps.create": async () => ({ path: "/v1/apps", body: { name: "matrix-created" } }),
  "apps.list": async () => ({ path: "/v1/apps" }),
  "apps.get": async (api, org) => ({ path: `/v1/apps/${await newApp(api, org)}` }),
  "apps.update": async (api, org) => ({ path: `/v1/apps/${await newApp(api, org)}`, body: { name: "renamed" } }),
  "apps.delete": async (api, org) => ({ path: `/v1/apps/${await newApp(api, org)}` }),
  "deployments.create": async (api, org) => ({ path: `/v1/apps/${await newApp(api, org)}/deployments`, body: { source: { ref: "v1" } } }),
  "deployments.list": async (api, org) => ({ path: `/v1/apps/${(await newDeployment(api, org)).appId}/deployments` }),
  "deployments.get": async (api, org) => {
    const { appId, id } = await newDeployment(api, org);
    return { path: `/v1/apps/${appId}/deployments/${id}` };
  },
  "deployments.cancel": async (api, org) => {
    const { appId, id } = await newDeployment(api, org);
    return { path: `/v1/apps/${appId}/deployments/${id}/cancel` };
  },
  "orgs.create": async () => ({ path: "/v1/orgs", body: { slug: `created-${process.pid}-${++orgCounter}`, name: "n" } }),
  "orgs.get": async (api) => ({ path: `/v1/orgs/${await newOrg(api)}` }),
  "orgs.suspend": async (api) => ({ path: `/v1/orgs/${await newOrg(api)}/suspend` }),
  "orgs.resume": async (api) => ({ path: `/v1/orgs/${await newOrg(api)}/resume` }),
  "openapi.get": async () => ({ path: "/openapi.json" }),
};
