import type { RouteDef } from "./types.ts";
import type { AppChange } from "../apps/index.ts";
import type { KekRotationChange } from "../credentials/rotation/app.ts";
import * as s from "../schemas.ts";

/** The apps routes of the table in ./index.ts (their handlers import only this module). */
export const routes = [
  { id: "apps.create", method: "POST", path: "/v1/apps", host: "org", access: { member: "developer", vendor: { underGrant: "Install" } }, status: 201,
    summary: "Create an app", body: s.createAppBody, response: s.appSchema,
    records: (app: AppChange) => ({ appId: app.appId }) },
  { id: "apps.list", method: "GET", path: "/v1/apps", host: "org", access: { member: "viewer", vendor: { underGrant: "Observe" } }, status: 200,
    summary: "List apps, newest cursor-paginated", query: s.listQuery, response: s.appListSchema },
  { id: "apps.get", method: "GET", path: "/v1/apps/{appId}", host: "org", access: { member: "viewer", vendor: { underGrant: "Observe" } }, status: 200,
    summary: "Read an app", params: s.appParams, response: s.appSchema },
  { id: "apps.update", method: "PATCH", path: "/v1/apps/{appId}", host: "org", access: { member: "developer", vendor: { underGrant: "Operate" } }, status: 200,
    summary: "Rename or describe an app", params: s.appParams, body: s.updateAppBody, response: s.appSchema,
    records: (app: AppChange) => ({ appId: app.appId, changed: app.changed!.join(",") }) },
  { id: "apps.delete", method: "DELETE", path: "/v1/apps/{appId}", host: "org", access: { member: "admin" }, status: 204,
    summary: "Delete an app", params: s.appParams, records: (app: AppChange) => ({ appId: app.appId }) },
  { id: "apps.rotate", method: "POST", path: "/v1/apps/{appId}/rotate", host: "org", access: { member: "admin" }, status: 200,
    summary: "Rotate the app's key-encryption key now: a new version wraps every credential's data key", params: s.appParams, response: s.rotationResultSchema,
    records: (rotation: KekRotationChange) => ({ appId: rotation.appId, kekVersion: rotation.kekVersion }) },
] as const satisfies readonly RouteDef[];
