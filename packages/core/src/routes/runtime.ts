import type { RouteDef } from "./types.ts";
import * as cs from "../credentials/schemas.ts";

/** The runtime routes of the table in ./index.ts (their handlers import only this module). */
export const routes = [
  { id: "runtime.get-credential", method: "GET", path: "/v1/runtime/credentials/{name}", host: "org", access: { runtime: true }, status: 200,
    summary: "A system-level credential's value, for the runtime of the app its token names", params: cs.runtimeCredentialParams, response: cs.runtimeCredentialSchema },
  { id: "runtime.get-user-credential", method: "GET", path: "/v1/runtime/users/{sub}/credentials/{name}", host: "org", access: { runtime: true }, status: 200,
    summary: "A user-level credential's value, for the runtime of the app its token names", params: cs.runtimeUserCredentialParams, response: cs.runtimeCredentialSchema },
] as const satisfies readonly RouteDef[];
