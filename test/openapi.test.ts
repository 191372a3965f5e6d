import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { openApiDocument } from "../packages/core/src/openapi.ts";
import { routes } from "../packages/core/src/routes/index.ts";

describe("the committed OpenAPI document", () => {
  it("is current with the route table (regenerate with `npm run openapi`)", () => {
    const committed = JSON.parse(readFileSync(new URL("../packages/core/openapi.json", import.meta.url), "utf8"));
    expect(committed).toEqual(JSON.parse(JSON.stringify(openApiDocument())));
  });

  it("documents every route with its access and host", () => {
    const document = openApiDocument();
    for (const route of routes) {
      const operation = document.paths[route.path]?.[route.method.toLowerCase()] as Record<string, unknown>;
      expect(operation, route.id).toMatchObject({ operationId: route.id, "x-bulkhead-host": route.host });
    }
  });
});
