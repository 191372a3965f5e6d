import { mkdtempSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { VerifiedTokenCache, createTokenVerifier } from "../packages/core/src/auth/jwt.ts";
import { DEV_ISSUER, loadDevIssuer, type DevIssuer } from "../packages/local/src/issuer.ts";

let server: Server;
let jwksUri: string;
let issuer: DevIssuer;
let jwksFetches = 0;

beforeAll(async () => {
  issuer = loadDevIssuer(mkdtempSync(join(tmpdir(), "bulkhead-jwks-")));
  server = createServer((_req, res) => {
    jwksFetches++;
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify(issuer.jwks));
  });
  await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
  jwksUri = `http://127.0.0.1:${(server.address() as { port: number }).port}/jwks.json`;
});
afterAll(() => server.close());
afterEach(() => vi.useRealTimers());

const member = { sub: "alice", org: "acme", role: "admin" };

describe("the verified-token cache", () => {
  it("answers a repeated token from the cache, keyed by hash", async () => {
    const cache = new VerifiedTokenCache();
    const verify = createTokenVerifier({ ...DEV_ISSUER, jwksUri }, cache);
    const token = issuer.mint(member);
    const first = await verify(token);
    expect(cache.size).toBe(1);
    expect(await verify(token)).toBe(first);
    expect(cache.get(VerifiedTokenCache.keyOf(token))).toBe(first);
  });

  it("never serves a token past its exp", async () => {
    const cache = new VerifiedTokenCache();
    const verify = createTokenVerifier({ ...DEV_ISSUER, jwksUri }, cache);
    const token = issuer.mint(member, { ttlSeconds: 60 });
    await verify(token);
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 61_000);
    await expect(verify(token)).rejects.toThrow(/expired/i);
    expect(cache.get(VerifiedTokenCache.keyOf(token))).toBeUndefined();
  });

  it("is dropped when a JWKS is fetched again (key rotation)", async () => {
    const cache = new VerifiedTokenCache();
    const verify = createTokenVerifier({ ...DEV_ISSUER, jwksUri }, cache);
    await verify(issuer.mint(member));
    expect(cache.size).toBe(1);
    const before = jwksFetches;
    // A token under a kid the cached JWKS lacks makes the verifier fetch the JWKS again.
    await expect(verify(issuer.mint(member, { header: { kid: "rotated-key" } }))).rejects.toThrow();
    expect(jwksFetches).toBeGreaterThan(before);
    expect(cache.size).toBe(0);
  });

  it("is bounded, evicting the oldest entry", () => {
    const cache = new VerifiedTokenCache(2);
    const exp = Date.now() / 1000 + 60;
    cache.set("a", { exp });
    cache.set("b", { exp });
    cache.set("c", { exp });
    expect(cache.size).toBe(2);
    expect(cache.get("a")).toBeUndefined();
    expect(cache.get("c")).toEqual({ exp });
  });

  it("does not cache refused tokens", async () => {
    const cache = new VerifiedTokenCache();
    const verify = createTokenVerifier({ ...DEV_ISSUER, jwksUri }, cache);
    await expect(verify(issuer.mint(member, { header: { typ: "JWT" } }))).rejects.toThrow();
    expect(cache.size).toBe(0);
  });
});
