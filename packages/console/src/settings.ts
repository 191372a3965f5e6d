/** The console's paths on every org host (one origin with the API, so no CORS). */
export const CONSOLE_PATH = "/console";

/**
 * Its API Gateway routes (infra declares them, the offline gateway matches them the same way) and
 * the one function behind both: `{proxy+}` does not match the bare path, hence two routes.
 */
export const CONSOLE_ROUTES = [
  { method: "GET", path: CONSOLE_PATH },
  { method: "GET", path: `${CONSOLE_PATH}/{proxy+}` },
] as const;
export const CONSOLE_HANDLER_FILE = "functions/src/console/assets.ts";
/** Where the built files sit inside the function's bundle (infra copies them there). */
export const CONSOLE_BUNDLE_DIR = "console";
