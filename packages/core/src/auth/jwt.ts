import { hash } from "node:crypto";
import { JwtVerifier } from "aws-jwt-verify/jwt-verifier";
import { JwksNotAvailableInCacheError, KidNotFoundInJwksError } from "aws-jwt-verify/error";
import { SimpleFetcher, type Fetcher } from "aws-jwt-verify/https";
import { SimpleJwksCache } from "aws-jwt-verify/jwk";
import type { JwtPayload } from "aws-jwt-verify/jwt-model";
import { BoundedCache } from "../bounded-cache.ts";
import { TokenRejected } from "./errors.ts";

/** Checks aws-jwt-verify leaves to the caller (README, "Isolation, layer by layer", layer 2). */
export const TOKEN_LIMITS = {
  maxBytes: 8 * 1024,
  maxFutureIatSeconds: 60,
  accessTokenTypes: ["at+jwt", "application/at+jwt"],
} as const;

export type VerifierSettings = { issuer: string; audience: string; jwksUri: string };

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/**
 * aws-jwt-verify's own fetcher speaks only HTTPS. The offline dev issuer serves its JWKS over
 * plain HTTP on loopback; this fetcher allows exactly that and nothing else.
 */
export const loopbackHttpFetcher: Fetcher = {
  async fetch(uri) {
    const url = new URL(uri);
    if (url.protocol !== "http:" || !LOOPBACK_HOSTS.has(url.hostname)) {
      throw new TokenRejected("JWKS over plain HTTP is allowed only on loopback");
    }
    const response = await fetch(url, { signal: AbortSignal.timeout(3000) });
    if (!response.ok) throw new TokenRejected(`JWKS fetch failed with ${response.status}`);
    return response.arrayBuffer();
  },
};

function extraChecks({ header, payload }: { header: { alg?: string; typ?: string }; payload: JwtPayload }) {
  if (header.alg !== "RS256") throw new TokenRejected("alg must be RS256");
  if (!TOKEN_LIMITS.accessTokenTypes.includes(String(header.typ).toLowerCase() as never)) {
    throw new TokenRejected("not an access token (typ)");
  }
  if (typeof payload.exp !== "number") throw new TokenRejected("exp is required");
  if (payload.iat !== undefined) {
    if (typeof payload.iat !== "number") throw new TokenRejected("iat must be a number");
    if (payload.iat > Date.now() / 1000 + TOKEN_LIMITS.maxFutureIatSeconds) throw new TokenRejected("iat is in the future");
  }
}

export type TokenVerifier = (token: string) => Promise<JwtPayload>;

/**
 * Tokens already verified by this process, keyed by their SHA-256 (the token itself is never
 * kept), each valid only until its `exp`. Cleared whenever a JWKS is fetched, so a key rotation
 * or a revoked key re-verifies everything. Bounded: the oldest entry goes first.
 */
export class VerifiedTokenCache {
  private readonly entries: BoundedCache<string, JwtPayload>;
  constructor(maxEntries = 1000) {
    this.entries = new BoundedCache(maxEntries);
  }

  static keyOf(token: string): string {
    return hash("sha256", token, "base64");
  }

  get(key: string, nowSeconds = Date.now() / 1000): JwtPayload | undefined {
    const claims = this.entries.get(key);
    if (claims && (claims.exp as number) > nowSeconds) return claims;
    if (claims) this.entries.delete(key);
    return undefined;
  }

  set(key: string, claims: JwtPayload): void {
    this.entries.set(key, claims);
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
  }
}

export function createTokenVerifier(settings: VerifierSettings, cache = new VerifiedTokenCache()): TokenVerifier {
  const usesLoopbackHttp = new URL(settings.jwksUri).protocol === "http:";
  const base = usesLoopbackHttp ? loopbackHttpFetcher : new SimpleFetcher();
  const fetcher: Fetcher = {
    fetch: async (...args) => {
      const body = await base.fetch(...args);
      cache.clear();
      return body;
    },
  };
  const verifier = JwtVerifier.create(
    { issuer: settings.issuer, audience: settings.audience, jwksUri: settings.jwksUri, customJwtCheck: extraChecks },
    { jwksCache: new SimpleJwksCache({ fetcher }) },
  );
  /** The synchronous path is cheaper; the async one only fetches a JWKS that is not cached yet. */
  const verifyPreferSync = async (token: string): Promise<JwtPayload> => {
    try {
      return verifier.verifySync(token);
    } catch (error) {
      if (error instanceof JwksNotAvailableInCacheError || error instanceof KidNotFoundInJwksError) return verifier.verify(token);
      throw error;
    }
  };
  return async (token) => {
    if (token.length > TOKEN_LIMITS.maxBytes) throw new TokenRejected("token too large");
    const key = VerifiedTokenCache.keyOf(token);
    const cached = cache.get(key);
    if (cached) return cached;
    const claims = Object.freeze(await verifyPreferSync(token));
    cache.set(key, claims);
    return claims;
  };
}
