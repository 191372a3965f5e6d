import { createHash, randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildConsole } from "../packages/console/src/build.ts";
import { DEV_CONSOLE_CLIENT_ID } from "../packages/local/src/dev-sign-in.ts";
import { startTestApi, type TestApi } from "./support/api.ts";

let api: TestApi;
beforeAll(async () => (api = await startTestApi()));
afterAll(() => api?.stop());

const form = (fields: Record<string, string>) => ({
  rawBody: new URLSearchParams(fields).toString(),
  headers: { "content-type": "application/x-www-form-urlencoded" },
});

describe("the console's files on an org host", () => {
  it("serves index.html with the console's own strict CSP, and hashed assets as immutable", async () => {
    const index = await api.call(api.orgHost("acme"), "GET", "/console/");
    expect(index.status).toBe(200);
    const csp = String(index.headers["content-security-policy"]);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("require-trusted-types-for 'script'");
    expect(csp).toContain(`connect-src 'self' http://localhost:${api.offline.port}`);
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(index.headers["referrer-policy"]).toBe("no-referrer");
    expect(index.headers["cache-control"]).toBe("no-store");
    // No inline script: the one script is an external, hashed module.
    expect(index.text.match(/<script[^>]*>/g)).toEqual([expect.stringMatching(/^<script type="module" src="\/console\/assets\/main-[A-Z0-9]+\.js">$/)]);
    const script = /src="([^"]+)"/.exec(index.text)![1]!;
    const asset = await api.call(api.orgHost("acme"), "GET", script);
    expect(asset.status).toBe(200);
    expect(asset.headers["content-type"]).toBe("text/javascript; charset=utf-8");
    expect(asset.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    expect(asset.text).not.toMatch(/\beval\(|new Function\(/);
  });

  it("redirects /console to /console/, says how to sign in, and serves nothing else", async () => {
    const host = api.orgHost("globex");
    const bare = await api.call(host, "GET", "/console");
    expect(bare.status).toBe(308);
    expect(bare.headers.location).toBe("/console/");
    const config = await api.call(host, "GET", "/console/config.json");
    expect(config.json).toEqual({
      clientId: DEV_CONSOLE_CLIENT_ID,
      authorizationEndpoint: `http://localhost:${api.offline.port}/dev-issuer/authorize`,
      tokenEndpoint: `http://localhost:${api.offline.port}/dev-issuer/token`,
      scope: "openid",
    });
    for (const path of ["/console/assets/../index.html", "/console/assets/%2e%2e%2fbuild.ts", "/console/nope", "/console/assets/"]) {
      const reply = await api.call(host, "GET", path);
      expect(reply.status, path).toBe(404);
      expect(reply.headers["content-type"], path).toBe("application/problem+json");
    }
    expect((await api.call(host, "POST", "/console/")).status).toBe(404);
  });

  it("is served on org hosts only: not on the platform host nor a malformed one, whatever X-Forwarded-Host says", async () => {
    for (const host of [api.platformHost, "a.b.localhost", "evil.example"]) {
      const reply = await api.call(host, "GET", "/console/", { headers: { "x-forwarded-host": "acme.localhost" } });
      expect(reply.status, host).toBe(404);
      expect(reply.json.detail, host).toBe("The console is served on org hosts only.");
    }
  });

  it("bundles small: script and style gzip under 25 KB together", async () => {
    const built = await buildConsole(`${api.offline.dataDir}/console-size`);
    const gzip = built.files.reduce((sum, f) => sum + f.gzipBytes, 0);
    console.info("console bundle", JSON.stringify(built.files));
    expect(gzip).toBeLessThan(25_000);
  });
});

describe("the dev issuer's authorization code + PKCE sign-in", () => {
  const verifier = randomBytes(32).toString("base64url");
  const challenge = createHash("sha256").update(verifier).digest("base64url");
  const redirect = () => `http://acme.localhost:${api.offline.port}/console/`;
  const authorizeFields = () => ({
    response_type: "code", client_id: DEV_CONSOLE_CLIENT_ID, redirect_uri: redirect(), state: "s1",
    code_challenge: challenge, code_challenge_method: "S256",
  });
  const signIn = async (member = { org: "acme", sub: "alice", role: "admin" }) => {
    const reply = await api.call(api.platformHost, "POST", "/dev-issuer/authorize", form({ ...authorizeFields(), ...member }));
    expect(reply.status).toBe(303);
    const back = new URL(String(reply.headers.location));
    expect(`${back.origin}${back.pathname}`).toBe(redirect());
    expect(back.searchParams.get("state")).toBe("s1");
    return back.searchParams.get("code")!;
  };
  const exchange = (code: string, codeVerifier = verifier, origin = `http://acme.localhost:${api.offline.port}`) =>
    api.call(api.platformHost, "POST", "/dev-issuer/token", {
      ...form({ grant_type: "authorization_code", code, redirect_uri: redirect(), client_id: DEV_CONSOLE_CLIENT_ID, code_verifier: codeVerifier }),
      headers: { "content-type": "application/x-www-form-urlencoded", origin },
    });

  it("shows a login form without script, and trades a code and its verifier for a member token the API accepts", async () => {
    const page = await api.call(api.platformHost, "GET", `/dev-issuer/authorize?${new URLSearchParams(authorizeFields())}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('<select name="role">');
    expect(page.text).not.toContain("<script");
    expect(page.headers["content-security-policy"]).toContain("default-src 'none'");
    const reply = await exchange(await signIn({ org: "acme", sub: "carol", role: "viewer" }));
    expect(reply.status).toBe(200);
    expect(reply.headers["access-control-allow-origin"]).toBe(`http://acme.localhost:${api.offline.port}`);
    expect(reply.json).toMatchObject({ token_type: "Bearer", expires_in: 3600 });
    const org = await api.call(api.orgHost("acme"), "GET", "/v1/org", { token: reply.json.access_token });
    expect(org.status).toBe(200);
    expect(JSON.parse(Buffer.from(reply.json.access_token.split(".")[1], "base64url").toString())).toMatchObject({ sub: "carol", org: "acme", role: "viewer" });
  });

  it("refuses a wrong verifier, a replayed code and a code for another redirect", async () => {
    const code = await signIn();
    const wrong = await exchange(code, randomBytes(32).toString("base64url"));
    expect(wrong.status).toBe(400);
    expect(wrong.json.error).toBe("invalid_grant");
    expect(wrong.text).not.toContain("access_token");
    // The failed attempt used the code up.
    expect((await exchange(code)).json.error).toBe("invalid_grant");
    const good = await signIn();
    expect((await exchange(good)).status).toBe(200);
    expect((await exchange(good)).status).toBe(400);
  });

  it("refuses authorization requests that are not the console's, and lets no other origin read a token", async () => {
    const bad = [
      { redirect_uri: "http://evil.example/console/" },
      { redirect_uri: `http://localhost:${api.offline.port}/console/` },
      { redirect_uri: `http://acme.localhost:${api.offline.port}/elsewhere` },
      { redirect_uri: `http://acme.localhost:1/console/` },
      { client_id: "other" },
      { code_challenge_method: "plain" },
      { code_challenge: "short" },
      { response_type: "token" },
    ];
    for (const change of bad) {
      const reply = await api.call(api.platformHost, "GET", `/dev-issuer/authorize?${new URLSearchParams({ ...authorizeFields(), ...change })}`);
      expect(reply.status, JSON.stringify(change)).toBe(400);
    }
    const refused = await api.call(api.platformHost, "POST", "/dev-issuer/authorize", form({ ...authorizeFields(), org: "acme", sub: "alice", role: "platform-admin" }));
    expect(refused.status).toBe(400);
    const reply = await exchange(await signIn(), verifier, "http://evil.example");
    expect(reply.status).toBe(200);
    expect(reply.headers["access-control-allow-origin"]).toBeUndefined();
  });
});
