import type { RouteDef } from "./types.ts";
import * as s from "../schemas.ts";

/** The org routes of the table in ./index.ts (their handlers import only this module). */
export const routes = [
  { id: "org.get", method: "GET", path: "/v1/org", host: "org", access: { member: "viewer", vendor: { underGrant: "Observe" } }, status: 200,
    summary: "The organization this host serves, with its limits and what it uses of them", response: s.orgWithUsageSchema },
] as const satisfies readonly RouteDef[];
