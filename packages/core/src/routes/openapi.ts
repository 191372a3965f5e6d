import type { RouteDef } from "./types.ts";

/** The openapi routes of the table in ./index.ts (their handlers import only this module). */
export const routes = [
  { id: "openapi.get", method: "GET", path: "/openapi.json", host: "any", access: { public: true }, status: 200,
    summary: "This API's OpenAPI document" },
] as const satisfies readonly RouteDef[];
