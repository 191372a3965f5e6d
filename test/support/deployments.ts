import { createHash } from "node:crypto";
import { strToU8, zipSync } from "fflate";
import { expect } from "vitest";
import type { GatewayClient } from "../../packages/local/src/client.ts";
import { postUploadForm } from "../../packages/local/src/deploy/api.ts";
import type { TestApi } from "./api.ts";

/** Creates an app on `org`'s host (owner token) and returns its id. */
export async function newApp(api: TestApi, org: string, build?: { command: string }): Promise<string> {
  const reply = await api.call(api.orgHost(org), "POST", "/v1/apps", {
    token: api.tokens.member(org, "owner"),
    body: { name: `app-${Math.random().toString(36).slice(2, 8)}`, ...(build && { build }) },
  });
  if (reply.status !== 201) throw new Error(`app setup failed: ${reply.status} ${reply.text}`);
  return reply.json.id;
}

/**
 * Uploads a source version as a client would: announce it (POST /sources, a developer token),
 * then POST the presigned form to the object store stand-in. Returns the form's answer.
 */
export async function putSource(
  api: Pick<GatewayClient, "call" | "orgHost" | "tokens">,
  org: string,
  appId: string,
  ref: string,
  files: Record<string, string> = { "index.html": "<h1>hello</h1>\n" },
) {
  const zip = zipSync(Object.fromEntries(Object.entries(files).map(([name, content]) => [name, strToU8(content)])));
  const sha256 = createHash("sha256").update(zip).digest("hex");
  const reply = await api.call(api.orgHost(org), "POST", `/v1/apps/${appId}/sources`, {
    token: api.tokens.member(org, "developer"), body: { ref, sha256, size: zip.length },
  });
  if (reply.status !== 201) throw new Error(`source setup failed: ${reply.status} ${reply.text}`);
  await postUploadForm(reply.json.upload, zip);
  return reply.json;
}

export async function startDeployment(api: TestApi, org: string, appId: string, body: object = { source: { ref: "v1" } }, headers?: Record<string, string>) {
  return api.call(api.orgHost(org), "POST", `/v1/apps/${appId}/deployments`, {
    token: api.tokens.member(org, "developer"),
    body,
    headers,
  });
}

export async function readDeployment(api: TestApi, org: string, appId: string, id: string) {
  const reply = await api.call(api.orgHost(org), "GET", `/v1/apps/${appId}/deployments/${id}`, { token: api.tokens.member(org, "viewer") });
  expect(reply.status, reply.text).toBe(200);
  return reply.json;
}

/** Polls the deployment until its status is one of `statuses`. */
export async function waitForStatus(api: TestApi, org: string, appId: string, id: string, statuses: string[], timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const deployment = await readDeployment(api, org, appId, id);
    if (statuses.includes(deployment.status)) return deployment;
    if (Date.now() > deadline) throw new Error(`deployment ${id} stayed ${deployment.status}; wanted ${statuses.join("|")}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Waits for the local execution named by the deployment id to close. */
export async function executionClosed(api: TestApi, id: string) {
  const execution = api.offline.deployments.executor.get(id);
  expect(execution, `execution ${id}`).toBeDefined();
  await execution!.done;
  return execution!;
}
