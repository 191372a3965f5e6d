import type { RouteDef } from "./types.ts";
import type { DeploymentRecord } from "../deployments/records.ts";
import * as ds from "../deployments/schemas.ts";
import * as s from "../schemas.ts";

/** The deployments routes of the table in ./index.ts (their handlers import only this module). */
export const routes = [
  { id: "deployments.create", method: "POST", path: "/v1/apps/{appId}/deployments", host: "org", access: { member: "developer" }, status: 202,
    summary: "Start a deployment: build the source ref, then deploy it to the target. An Idempotency-Key replays the same deployment",
    params: s.appParams, headers: ds.idempotencyHeaders, body: ds.createDeploymentBody, response: ds.deploymentSchema,
    records: (deployment: DeploymentRecord) => ({ appId: deployment.appId, deploymentId: deployment.id, ref: deployment.source.ref, targetId: deployment.target.id }) },
  { id: "deployments.list", method: "GET", path: "/v1/apps/{appId}/deployments", host: "org", access: { member: "viewer" }, status: 200,
    summary: "List an app's deployments, newest first, cursor-paginated", params: s.appParams, query: s.listQuery, response: ds.deploymentListSchema },
  { id: "deployments.get", method: "GET", path: "/v1/apps/{appId}/deployments/{deploymentId}", host: "org", access: { member: "viewer" }, status: 200,
    summary: "Read a deployment: status, step timestamps, artifact, failure reason, build log excerpt", params: ds.deploymentParams, response: ds.deploymentSchema },
  { id: "deployments.cancel", method: "POST", path: "/v1/apps/{appId}/deployments/{deploymentId}/cancel", host: "org", access: { member: "developer" }, status: 200,
    summary: "Cancel a running deployment and stop its workflow", params: ds.deploymentParams, response: ds.deploymentSchema,
    records: ({ appId, deploymentId }: { appId: string; deploymentId: string }) => ({ appId, deploymentId }) },
] as const satisfies readonly RouteDef[];
