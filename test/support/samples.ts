import type { RouteId } from "../../packages/core/src/routes.ts";
import type { TestApi } from "./api.ts";

/**
 * How to call each route for the cross-tenant matrix: a request that succeeds for the host
 * org's principal. Every route in the route table must have one (the matrix test checks), so a
 * new route cannot skip the matrix.
 */
export type SampleRequest = {
  path: string;
  body?: unknown;
  /** The app the request concerns, when it made one: runtime routes succeed with this app's runtime token. */
  app?: string;
};
export type Sample = (api: TestApi, org: string) => Promise<SampleRequest>;

/** Every credential value a sample stores starts with this, so the matrix can look for leaks. */
export const SAMPLE_SECRET = "matrix-plaintext-value";

const newApp = async (api: TestApi, org: string): Promise<string> => {
  const reply = await api.call(api.orgHost(org), "POST", "/v1/apps", {
    token: api.tokens.member(org, "owner"),
    body: { name: `matrix-${org}` },
  });
  if (reply.status !== 201) throw new Error(`sample setup failed: ${reply.status} ${reply.text}`);
  return reply.json.id;
};

/** Stores a credential (system scope, or user scope for `sub`) with an owner token; returns its app. */
const newCredential = async (api: TestApi, org: string, name: string, sub?: string): Promise<string> => {
  const app = await newApp(api, org);
  const path = sub ? `/v1/apps/${app}/users/${sub}/credentials/${name}` : `/v1/apps/${app}/credentials/${name}`;
  const reply = await api.call(api.orgHost(org), "PUT", path, {
    token: api.tokens.member(org, "owner"),
    body: { value: `${SAMPLE_SECRET}-${name}` },
  });
  if (reply.status !== 200) throw new Error(`sample setup failed: ${reply.status} ${reply.text}`);
  return app;
};
/** The subject of the default viewer token, `tokens.member(org, "viewer")`: it may manage its own user credentials. */
const viewerSub = (org: string) => `viewer-of-${org}`;

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
  "apps.rotate": async (api, org) => {
    const app = await newCredential(api, org, "rotated");
    return { path: `/v1/apps/${app}/rotate`, app };
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
  "orgs.create": async () => ({ path: "/v1/orgs", body: { slug: `created-${process.pid}-${++orgCounter}`, name: "n" } }),
  "orgs.get": async (api) => ({ path: `/v1/orgs/${await newOrg(api)}` }),
  "orgs.suspend": async (api) => ({ path: `/v1/orgs/${await newOrg(api)}/suspend` }),
  "orgs.resume": async (api) => ({ path: `/v1/orgs/${await newOrg(api)}/resume` }),
  "openapi.get": async () => ({ path: "/openapi.json" }),
};
