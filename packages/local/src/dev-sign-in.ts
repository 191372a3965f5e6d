import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { MEMBER_ROLES, type MemberRole } from "@bulkhead/core/auth/principal";
import { isName, isOrgSlug } from "@bulkhead/core/ids";
import { parseHost } from "@bulkhead/core/tenancy";
import { CONSOLE_PATH } from "@bulkhead/console/settings";
import type { ConsoleSettings } from "@bulkhead/core/config";
import type { DevIssuer } from "./issuer.ts";

/** The console's public client at the dev issuer: authorization code + PKCE, no client secret. */
export const DEV_CONSOLE_CLIENT_ID = "bulkhead-console";
export const DEV_ISSUER_PATH_PREFIX = "/dev-issuer/";
export const DEV_SIGN_IN_PATHS = { authorize: `${DEV_ISSUER_PATH_PREFIX}authorize`, token: `${DEV_ISSUER_PATH_PREFIX}token` } as const;
const CODE_TTL_MS = 60_000;
const TOKEN_TTL_SECONDS = 3600;

/** Where the console signs in offline: the dev issuer on the platform host of the same gateway. */
export const devConsoleSettings = (port: number): ConsoleSettings => ({
  clientId: DEV_CONSOLE_CLIENT_ID,
  authorizationEndpoint: `http://localhost:${port}${DEV_SIGN_IN_PATHS.authorize}`,
  tokenEndpoint: `http://localhost:${port}${DEV_SIGN_IN_PATHS.token}`,
  scope: "openid",
});

type Authorization = { clientId: string; redirectUri: string; state: string; challenge: string };
type Grant = Authorization & { claims: { sub: string; org: string; role: MemberRole }; expiresAt: number };

class SignInRefused extends Error {}

/** The form posts here and is redirected to the console: form-action covers both hops. */
const pageCsp = (redirectUri: string) =>
  `default-src 'none'; img-src data:; form-action 'self' ${new URL(redirectUri).origin}; base-uri 'none'; frame-ancestors 'none'`;

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

/**
 * The offline stand-in for an identity provider's sign-in: an authorize endpoint whose form picks
 * the member (org, sub, role) a real provider would know, and a token endpoint that trades a
 * single-use code for an access token only with the PKCE verifier of its S256 challenge.
 * Redirects go only to `/console/` on an org host of this gateway.
 */
export function devSignIn(issuer: DevIssuer, baseDomain: string) {
  const codes = new Map<string, Grant>();

  const authorization = (params: URLSearchParams, host: string): Authorization => {
    if (params.get("response_type") !== "code") throw new SignInRefused("response_type must be code");
    if (params.get("client_id") !== DEV_CONSOLE_CLIENT_ID) throw new SignInRefused("unknown client_id");
    if (params.get("code_challenge_method") !== "S256") throw new SignInRefused("code_challenge_method must be S256");
    const challenge = params.get("code_challenge") ?? "";
    if (!/^[A-Za-z0-9_-]{43}$/.test(challenge)) throw new SignInRefused("code_challenge must be a base64url SHA-256");
    const state = params.get("state") ?? "";
    if (!state || state.length > 512) throw new SignInRefused("state is required");
    const redirectUri = params.get("redirect_uri") ?? "";
    if (!consoleRedirect(redirectUri, host)) throw new SignInRefused("redirect_uri is not the console of an org host");
    return { clientId: DEV_CONSOLE_CLIENT_ID, redirectUri, state, challenge };
  };

  /** http://<org>.<base>:<this gateway's port>/console/ and nothing else. */
  const consoleRedirect = (uri: string, host: string): boolean => {
    try {
      const url = new URL(uri);
      const port = host.match(/:(\d+)$/)?.[1] ?? "";
      return url.protocol === "http:" && url.port === port && url.pathname === `${CONSOLE_PATH}/` && !url.search && !url.hash
        && !url.username && !url.password && parseHost(url.hostname, baseDomain).kind === "org";
    } catch {
      return false;
    }
  };

  const loginForm = (auth: Authorization, org: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>Dev issuer: sign in</title></head><body>
<h1>Dev issuer (offline stand-in)</h1>
<p>Sign in to the console as any member: a real identity provider would know who you are.</p>
<form method="post" action="${DEV_SIGN_IN_PATHS.authorize}">
${Object.entries({ response_type: "code", client_id: auth.clientId, redirect_uri: auth.redirectUri, state: auth.state, code_challenge: auth.challenge, code_challenge_method: "S256" })
    .map(([name, value]) => `<input type="hidden" name="${name}" value="${escapeHtml(value)}">`).join("\n")}
<p><label>Org <input name="org" value="${escapeHtml(org)}" required></label></p>
<p><label>Sub <input name="sub" value="alice" required></label></p>
<p><label>Role <select name="role">${MEMBER_ROLES.map((role) => `<option${role === "admin" ? " selected" : ""}>${role}</option>`).join("")}</select></label></p>
<p><button type="submit">Sign in</button></p>
</form></body></html>`;

  const authorize = (method: string, params: URLSearchParams, host: string, res: ServerResponse) => {
    const auth = authorization(params, host);
    if (method === "GET") {
      const org = new URL(auth.redirectUri).hostname.split(".")[0]!;
      return reply(res, 200, { "content-type": "text/html; charset=utf-8", "content-security-policy": pageCsp(auth.redirectUri) }, loginForm(auth, org));
    }
    const [org, sub, role] = [params.get("org") ?? "", params.get("sub") ?? "", params.get("role") ?? ""];
    if (!isOrgSlug(org)) throw new SignInRefused("org is not an org slug");
    if (!isName(sub)) throw new SignInRefused("sub is not a name");
    if (!(MEMBER_ROLES as readonly string[]).includes(role)) throw new SignInRefused("unknown role");
    const code = randomBytes(32).toString("base64url");
    for (const [old, grant] of codes) if (grant.expiresAt < Date.now()) codes.delete(old);
    codes.set(code, { ...auth, claims: { sub, org, role: role as MemberRole }, expiresAt: Date.now() + CODE_TTL_MS });
    const back = new URL(auth.redirectUri);
    back.search = new URLSearchParams({ code, state: auth.state }).toString();
    reply(res, 303, { location: back.toString() }, "");
  };

  const token = (params: URLSearchParams, origin: string | undefined, host: string, res: ServerResponse) => {
    // The console reads the answer from its own origin: only an org host's console may.
    const cors: Record<string, string> = origin && consoleRedirect(`${origin}${CONSOLE_PATH}/`, host)
      ? { "access-control-allow-origin": origin, vary: "origin" } : {};
    const refuse = (error: string, description: string) =>
      reply(res, 400, { ...cors, "content-type": "application/json" }, JSON.stringify({ error, error_description: description }));
    if (params.get("grant_type") !== "authorization_code") return refuse("unsupported_grant_type", "grant_type must be authorization_code");
    const code = params.get("code") ?? "";
    const grant = codes.get(code);
    codes.delete(code); // single use, whatever follows
    if (!grant || grant.expiresAt < Date.now()) return refuse("invalid_grant", "unknown, used or expired code");
    if (params.get("client_id") !== grant.clientId || params.get("redirect_uri") !== grant.redirectUri) {
      return refuse("invalid_grant", "client_id or redirect_uri differ from the authorization request");
    }
    const verifier = params.get("code_verifier") ?? "";
    const computed = Buffer.from(createHash("sha256").update(verifier).digest("base64url"));
    const expected = Buffer.from(grant.challenge);
    if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier) || computed.length !== expected.length || !timingSafeEqual(computed, expected)) {
      return refuse("invalid_grant", "code_verifier does not match the code_challenge");
    }
    const accessToken = issuer.mint(grant.claims, { ttlSeconds: TOKEN_TTL_SECONDS });
    reply(res, 200, { ...cors, "content-type": "application/json" },
      JSON.stringify({ access_token: accessToken, token_type: "Bearer", expires_in: TOKEN_TTL_SECONDS }));
  };

  /** Answers the dev issuer's sign-in paths on the platform host; false for any other request. */
  return async function handle(req: IncomingMessage, res: ServerResponse, url: URL, body: Buffer): Promise<boolean> {
    const method = req.method ?? "";
    const host = req.headers.host ?? "";
    const isForm = (req.headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded");
    const form = () => new URLSearchParams(isForm ? body.toString("utf8") : "");
    try {
      if (url.pathname === DEV_SIGN_IN_PATHS.authorize && (method === "GET" || method === "POST")) {
        authorize(method, method === "GET" ? url.searchParams : form(), host, res);
        return true;
      }
      if (url.pathname === DEV_SIGN_IN_PATHS.token && method === "POST") {
        token(form(), req.headers.origin, host, res);
        return true;
      }
    } catch (error) {
      if (!(error instanceof SignInRefused)) throw error;
      reply(res, 400, { "content-type": "text/plain; charset=utf-8" }, `Sign-in refused: ${error.message}\n`);
      return true;
    }
    return false;
  };
}

export type DevSignIn = ReturnType<typeof devSignIn>;

function reply(res: ServerResponse, status: number, headers: Record<string, string>, body: string) {
  res.writeHead(status, { "cache-control": "no-store", "referrer-policy": "no-referrer", "x-content-type-options": "nosniff", ...headers });
  res.end(body);
}
