import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { openApiDocument } from "@bulkhead/core/openapi";
import { REPO_ROOT } from "../runtime.ts";

const file = join(REPO_ROOT, "packages/core/openapi.json");
writeFileSync(file, `${JSON.stringify(openApiDocument(), null, 2)}\n`);
console.log(`wrote ${file}`);
