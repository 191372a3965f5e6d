import type { RouteDef } from "./types.ts";
import type { CredentialChange } from "../credentials/service.ts";
import * as cs from "../credentials/schemas.ts";
import * as s from "../schemas.ts";

/** A credential's ids and the version a write made (never its value). */
const credentialRecord = ({ appId, name, sub, version }: CredentialChange) =>
  ({ appId, name, ...(sub !== undefined && { sub }), ...(version !== undefined && { version: String(version) }) });

/** The credentials routes of the table in ./index.ts (their handlers import only this module). */
export const routes = [
  { id: "credentials.list", method: "GET", path: "/v1/apps/{appId}/credentials", host: "org", access: { member: "viewer" }, status: 200,
    summary: "List an app's system and user credentials: metadata only, never values", params: s.appParams, query: s.listQuery, response: cs.credentialListSchema },
  { id: "credentials.put", method: "PUT", path: "/v1/apps/{appId}/credentials/{name}", host: "org", access: { member: "developer" }, status: 200,
    summary: "Create or replace a system-level credential (the response has no value)", params: cs.credentialParams, body: cs.putCredentialBody, response: cs.credentialSchema,
    records: credentialRecord },
  { id: "credentials.delete", method: "DELETE", path: "/v1/apps/{appId}/credentials/{name}", host: "org", access: { member: "developer" }, status: 204,
    summary: "Delete a system-level credential", params: cs.credentialParams, records: credentialRecord },
  { id: "credentials.put-user", method: "PUT", path: "/v1/apps/{appId}/users/{sub}/credentials/{name}", host: "org", access: { member: "viewer" }, status: 200,
    summary: "Create or replace a user-level credential: a member's own, or anyone's for admin and owner", params: cs.userCredentialParams, body: cs.putCredentialBody, response: cs.credentialSchema,
    records: credentialRecord },
  { id: "credentials.delete-user", method: "DELETE", path: "/v1/apps/{appId}/users/{sub}/credentials/{name}", host: "org", access: { member: "viewer" }, status: 204,
    summary: "Delete a user-level credential: a member's own, or anyone's for admin and owner", params: cs.userCredentialParams, records: credentialRecord },
] as const satisfies readonly RouteDef[];
