import { relative } from "node:path";
import { consoleAssets } from "../packages/console/src/build.ts";
import { CONSOLE_BUNDLE_DIR, CONSOLE_HANDLER_FILE } from "../packages/console/src/settings.ts";
import { CONSOLE_FUNCTION_ID, consoleFunctionRole } from "../packages/core/src/iam/platform.ts";
import { FUNCTION_DEFAULTS, ownRole } from "./functions.ts";
import type { Links } from "./links.ts";
import type { Stage } from "./stage.ts";

/**
 * The console: its hashed files, built here from the sources (esbuild, no network), copied into
 * one function that serves them on every org host, on the API's own domain (httpApi routes
 * `GET /console` and `GET /console/{proxy+}` to it): one origin with the API, so no CORS.
 */
export async function consoleFunction(stage: Stage, links: Links) {
  const built = await consoleAssets();
  return new sst.aws.Function("ConsoleFunction", {
    ...FUNCTION_DEFAULTS,
    name: stage.platform.functionName(CONSOLE_FUNCTION_ID),
    description: "The console's static files",
    handler: CONSOLE_HANDLER_FILE.replace(/\.ts$/, ".handler"),
    timeout: "10 seconds",
    memory: "256 MB",
    link: [links.Platform, links.Console],
    copyFiles: [{ from: relative(process.cwd(), built), to: CONSOLE_BUNDLE_DIR }],
    transform: { role: ownRole(stage.platform.functionRole(CONSOLE_FUNCTION_ID), consoleFunctionRole(stage.location, stage.platform)) },
  });
}
