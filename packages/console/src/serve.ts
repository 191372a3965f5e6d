import { readdirSync, readFileSync } from "node:fs";
import { extname, join } from "node:path";
import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { problemResponse } from "@bulkhead/core/http/problem-response";
import { problems } from "@bulkhead/core/http/problems";
import { notFound } from "@bulkhead/core/errors";
import type { ConsoleSettings } from "@bulkhead/core/config";
import { CONSOLE_PATH } from "./settings.ts";

const TYPES: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".html": "text/html; charset=utf-8",
};

/**
 * The page's policy: its own hashed script and style only (no inline script or style, no eval),
 * no plugins, frames or forms, and connections to its own origin (the API) and the identity
 * provider's token endpoint. `require-trusted-types-for` makes any HTML-string sink throw, so an
 * app name or grant reason can only ever become text.
 */
export function consoleCsp(settings: Pick<ConsoleSettings, "tokenEndpoint">): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src 'self' ${new URL(settings.tokenEndpoint).origin}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "object-src 'none'",
    "require-trusted-types-for 'script'",
    "trusted-types 'none'",
  ].join("; ");
}

const commonHeaders = {
  "x-content-type-options": "nosniff",
  // The authorization code comes back in the page's URL: it must never leave in a Referer.
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
};

type Assets = { index: string; files: Map<string, Buffer> };

/** Reads the built console once: index.html and the hashed files under assets/ (nothing else is served). */
export function loadAssets(dir: string): Assets {
  const files = new Map<string, Buffer>();
  for (const name of readdirSync(join(dir, "assets"))) files.set(name, readFileSync(join(dir, "assets", name)));
  return { index: readFileSync(join(dir, "index.html"), "utf8"), files };
}

/** One console request on an org host (the caller has checked the host): GET only. */
export function consoleResponse(
  method: string,
  path: string,
  assets: Assets,
  settings: ConsoleSettings,
  requestId: string,
): APIGatewayProxyStructuredResultV2 {
  if (method !== "GET" && method !== "HEAD") return problemResponse(problems.routeNotFound(), requestId);
  if (path === CONSOLE_PATH) return { statusCode: 308, headers: { ...commonHeaders, location: `${CONSOLE_PATH}/` } };
  if (path === `${CONSOLE_PATH}/`) {
    return {
      statusCode: 200,
      headers: { ...commonHeaders, "content-type": TYPES[".html"]!, "cache-control": "no-store", "content-security-policy": consoleCsp(settings) },
      body: assets.index,
    };
  }
  if (path === `${CONSOLE_PATH}/config.json`) {
    const { clientId, authorizationEndpoint, tokenEndpoint, scope } = settings;
    return {
      statusCode: 200,
      headers: { ...commonHeaders, "content-type": "application/json", "cache-control": "no-store" },
      body: JSON.stringify({ clientId, authorizationEndpoint, tokenEndpoint, scope }),
    };
  }
  const prefix = `${CONSOLE_PATH}/assets/`;
  const file = path.startsWith(prefix) ? assets.files.get(path.slice(prefix.length)) : undefined;
  if (!file) return problemResponse(notFound("No such console file."), requestId);
  return {
    statusCode: 200,
    headers: {
      ...commonHeaders,
      "content-type": TYPES[extname(path)] ?? "application/octet-stream",
      // Names carry their content's hash.
      "cache-control": "public, max-age=31536000, immutable",
    },
    body: file.toString("base64"),
    isBase64Encoded: true,
  };
}
