import { createHmac, generateKeyPairSync } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signJwt } from "../packages/local/src/issuer.ts";
import { DEV_ISSUER } from "../packages/local/src/issuer.ts";
import { startTestApi, type TestApi } from "./support/api.ts";

let api: TestApi;
beforeAll(async () => (api = await startTestApi()));
afterAll(() => api?.stop());

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
const now = () => Math.floor(Date.now() / 1000);

/** A well-formed acme admin token's parts; each case breaks exactly one thing. */
function parts(overrides: { header?: object; payload?: Record<string, unknown> } = {}) {
  const header = { alg: "RS256", typ: "at+jwt", kid: api.offline.issuer.kid, ...overrides.header };
  const payload = {
    iss: DEV_ISSUER.issuer, aud: DEV_ISSUER.audience, sub: "alice", org: "acme", role: "admin",
    iat: now(), exp: now() + 600, ...overrides.payload,
  };
  return { header, payload };
}
const signed = (overrides: Parameters<typeof parts>[0] = {}) => {
  const { header, payload } = parts(overrides);
  return signJwt(api.offline.issuer.privateKey, header, payload);
};
const without = (key: string) => {
  const { header, payload } = parts();
  delete (payload as Record<string, unknown>)[key];
  return signJwt(api.offline.issuer.privateKey, header, payload);
};

const cases: [string, () => string][] = [
  ["alg none, unsigned", () => { const { header, payload } = parts({ header: { alg: "none" } }); return `${b64(header)}.${b64(payload)}.`; }],
  ["HS256 signed with the public key", () => {
    const { header, payload } = parts({ header: { alg: "HS256" } });
    const input = `${b64(header)}.${b64(payload)}`;
    const publicPem = JSON.stringify(api.offline.issuer.jwks.keys[0]);
    return `${input}.${createHmac("sha256", publicPem).update(input).digest("base64url")}`;
  }],
  ["RS384 instead of RS256", () => signed({ header: { alg: "RS384" } })],
  ["expired", () => signed({ payload: { exp: now() - 3600, iat: now() - 7200 } })],
  ["nbf in the future", () => signed({ payload: { nbf: now() + 3600 } })],
  ["missing exp", () => without("exp")],
  ["iat in the future beyond the skew", () => signed({ payload: { iat: now() + 300 } })],
  ["wrong issuer", () => signed({ payload: { iss: "https://evil.example" } })],
  ["wrong audience", () => signed({ payload: { aud: "another-api" } })],
  ["unknown kid", () => signed({ header: { kid: "not-a-known-key" } })],
  ["signed by another key", () => signJwt(generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey, parts().header, parts().payload)],
  ["tampered payload", () => {
    const [header, , signature] = signed().split(".");
    return `${header}.${b64(parts({ payload: { role: "owner", org: "globex" } }).payload)}.${signature}`;
  }],
  ["oversized (over 8 KiB)", () => signed({ payload: { padding: "x".repeat(9000) } })],
  ["an ID token (typ JWT)", () => signed({ header: { typ: "JWT" } })],
  ["no typ", () => { const { header, payload } = parts(); delete (header as Record<string, unknown>).typ; return signJwt(api.offline.issuer.privateKey, header, payload); }],
  ["claims of no principal kind (org and platform both)", () => signed({ payload: { platform: true } })],
  ["unknown role", () => signed({ payload: { role: "superuser" } })],
  ["sub with a # (would break keys)", () => signed({ payload: { sub: "a#b" } })],
  ["not a JWT at all", () => "not.a.jwt"],
];

describe("JWT refusals over HTTP: each is a 401 problem, and the token never comes back", () => {
  it("accepts the unbroken token (control)", async () => {
    const reply = await api.call(api.orgHost("acme"), "GET", "/v1/apps", { token: signed() });
    expect(reply.status).toBe(200);
  });

  it.each(cases)("%s", async (_name, make) => {
    const token = make();
    const reply = await api.call(api.orgHost("acme"), "GET", "/v1/apps", { token });
    expect(reply.status, reply.text).toBe(401);
    expect(reply.headers["content-type"]).toBe("application/problem+json");
    expect(reply.headers["www-authenticate"]).toMatch(/^Bearer/);
    expect(reply.text).not.toContain(token);
  });

  it("refuses a malformed Authorization header", async () => {
    for (const authorization of ["Basic abc", "Bearer", "Bearer a b", `bearer ${signed()}x y`]) {
      const reply = await api.call(api.orgHost("acme"), "GET", "/v1/apps", { headers: { authorization } });
      expect(reply.status, authorization).toBe(401);
    }
  });
});
