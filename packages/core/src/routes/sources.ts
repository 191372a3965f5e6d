import type { RouteDef } from "./types.ts";
import type { Source } from "../sources/service.ts";
import * as ss from "../sources/schemas.ts";
import * as s from "../schemas.ts";

/** The sources routes of the table in ./index.ts (their handlers import only this module). */
export const routes = [
  { id: "sources.create", method: "POST", path: "/v1/apps/{appId}/sources", host: "org", access: { member: "developer" }, status: 201,
    summary: "Announce a source version (a ZIP, by ref and SHA-256) and get a short-lived presigned S3 POST form that uploads exactly it",
    params: s.appParams, body: ss.createSourceBody, response: ss.sourceUploadSchema,
    records: (source: Source & { appId: string }) => ({ appId: source.appId, ref: source.ref, sha256: source.sha256 }) },
  { id: "sources.list", method: "GET", path: "/v1/apps/{appId}/sources", host: "org", access: { member: "viewer" }, status: 200,
    summary: "List an app's source versions by ref, cursor-paginated", params: s.appParams, query: s.listQuery, response: ss.sourceListSchema },
] as const satisfies readonly RouteDef[];
