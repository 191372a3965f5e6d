import { signal } from "@preact/signals";

/** What the page reads of its access token: for the UI only (the API verifies the token itself). */
export type Claims = { sub: string; org?: string; role?: string; exp?: number };
export type Session = { token: string; claims: Claims };

type Settings = { clientId: string; authorizationEndpoint: string; tokenEndpoint: string; scope: string };

/** The access token lives here, in memory only: a reload or sign-out forgets it. */
export const session = signal<Session | undefined>(undefined);

/** Only the PKCE verifier and state cross the redirect (sessionStorage, this tab only); never a token. */
const PENDING = "bulkhead.console.sign-in";
const redirectUri = () => `${location.origin}/console/`;

let settings: Promise<Settings> | undefined;
const loadSettings = () => (settings ??= fetch("/console/config.json").then((r) => {
  if (!r.ok) throw new Error("The console's sign-in settings could not be loaded.");
  return r.json() as Promise<Settings>;
}));

const base64url = (bytes: ArrayBuffer | Uint8Array) =>
  btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const randomString = (length: number) => base64url(crypto.getRandomValues(new Uint8Array(length)));

/** OIDC authorization code flow with PKCE (S256): off to the identity provider's sign-in page. */
export async function signIn(): Promise<void> {
  const { clientId, authorizationEndpoint, scope } = await loadSettings();
  const verifier = randomString(32);
  const state = randomString(16);
  const challenge = base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state, hash: location.hash }));
  const url = new URL(authorizationEndpoint);
  url.search = new URLSearchParams({
    response_type: "code", client_id: clientId, redirect_uri: redirectUri(), scope, state,
    code_challenge: challenge, code_challenge_method: "S256",
  }).toString();
  location.assign(url.toString());
}

/** Back from the provider: trade the code and the verifier for a token. A no-op on a plain visit. */
export async function completeSignIn(): Promise<void> {
  const params = new URLSearchParams(location.search);
  if (!params.has("code") && !params.has("error")) return;
  const pending = JSON.parse(sessionStorage.getItem(PENDING) ?? "null") as { verifier: string; state: string; hash: string } | null;
  sessionStorage.removeItem(PENDING);
  history.replaceState(null, "", `${location.pathname}${pending?.hash ?? ""}`);
  if (params.has("error")) throw new Error(`Sign-in failed: ${params.get("error_description") ?? params.get("error")}`);
  if (!pending || pending.state !== params.get("state")) throw new Error("Sign-in failed: the answer does not belong to this sign-in.");
  const { clientId, tokenEndpoint } = await loadSettings();
  const reply = await fetch(tokenEndpoint, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code", code: params.get("code")!, redirect_uri: redirectUri(), client_id: clientId, code_verifier: pending.verifier,
    }),
  });
  const body = await reply.json().catch(() => ({}));
  if (!reply.ok || typeof body.access_token !== "string") {
    throw new Error(`Sign-in failed: ${body.error_description ?? body.error ?? `the token endpoint answered ${reply.status}`}`);
  }
  startSession(body.access_token);
}

let expiry: ReturnType<typeof setTimeout> | undefined;

function startSession(token: string): void {
  const payload = token.split(".")[1] ?? "";
  const bytes = Uint8Array.from(atob(payload.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
  const claims = JSON.parse(new TextDecoder().decode(bytes)) as Claims;
  session.value = { token, claims };
  clearTimeout(expiry);
  if (claims.exp) expiry = setTimeout(signOut, Math.max(0, claims.exp * 1000 - Date.now()));
}

export function signOut(): void {
  clearTimeout(expiry);
  session.value = undefined;
}
