import * as z from "zod/mini";
import { problemSchema } from "./schemas.ts";
import { routes } from "./routes/index.ts";
import type { RouteDef } from "./routes/types.ts";

const jsonSchema = (schema: z.ZodMiniType, io: "input" | "output") =>
  z.toJSONSchema(schema, { io, unrepresentable: "any", target: "openapi-3.0" }) as Record<string, any>;

function parameters(route: RouteDef) {
  const list: object[] = [];
  for (const [where, schema] of [["path", route.params], ["query", route.query], ["header", route.headers]] as const) {
    if (!schema) continue;
    const { properties = {}, required = [] } = jsonSchema(schema(), "input");
    for (const [name, property] of Object.entries(properties)) {
      list.push({ name, in: where, required: where === "path" || required.includes(name), schema: property });
    }
  }
  return list;
}

function security(route: RouteDef) {
  if ("public" in route.access) return [];
  return "enrollment" in route.access ? [{ enrollment: [] }] : [{ bearer: [] }];
}

/** The OpenAPI 3.0 document of the route table. Committed as openapi.json; a test keeps it current. */
export function openApiDocument() {
  const paths: Record<string, Record<string, object>> = {};
  for (const route of routes as readonly RouteDef[]) {
    const problem = { description: "Problem", content: { "application/problem+json": { schema: jsonSchema(problemSchema(), "output") } } };
    paths[route.path] ??= {};
    paths[route.path]![route.method.toLowerCase()] = {
      operationId: route.id,
      summary: route.summary,
      "x-bulkhead-host": route.host,
      "x-bulkhead-access": route.access,
      security: security(route),
      parameters: parameters(route),
      ...(route.body && { requestBody: { required: true, content: { "application/json": { schema: jsonSchema(route.body(), "input") } } } }),
      responses: {
        [route.status]: route.response
          ? { description: "Success", content: { "application/json": { schema: jsonSchema(route.response(), "output") } } }
          : { description: "Success" },
        default: problem,
      },
    };
  }
  return {
    openapi: "3.0.3",
    info: { title: "Bulkhead", version: "1.0.0", description: "Org hosts are <org>.<base domain>; the platform host is the base domain itself." },
    components: {
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" },
        enrollment: { type: "http", scheme: "Enrollment", description: "A single-use enrollment token: `Authorization: Enrollment bhe_…`" },
      },
    },
    paths,
  };
}
