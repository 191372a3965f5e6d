/**
 * What the console needs to sign in: the identity provider's authorization code + PKCE endpoints
 * and the console's public client id. Served to the page as /console/config.json; its token
 * endpoint's origin is the only one besides the page's own that the CSP lets it connect to.
 */
export type ConsoleSettings = {
  clientId: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  /** Asked for at the authorization endpoint; providers that need none get "openid". */
  scope: string;
};

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
