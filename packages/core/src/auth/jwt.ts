import { JwtVerifier } from "aws-jwt-verify";
import { SimpleJwksCache } from "aws-jwt-verify/jwk";
import type { Fetcher } from "aws-jwt-verify/https";
import type { JwtPayload } from "aws-jwt-verify/jwt-model";

/** Checks aws-jwt-verify leaves to the caller (see DESIGN.md, "Facts that change code"). */
export const TOKEN_LIMITS = {
  maxBytes: 8 * 1024,
  maxFutureIatSeconds: 60,
  accessTokenTypes: ["at+jwt", "application/at+jwt"],
} as const;

export class TokenRejected extends Error {
  override readonly name = "TokenRejected";
}

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

export function createTokenVerifier(settings: VerifierSettings): TokenVerifier {
  const usesLoopbackHttp = new URL(settings.jwksUri).protocol === "http:";
  const verifier = JwtVerifier.create(
    { issuer: settings.issuer, audience: settings.audience, jwksUri: settings.jwksUri, customJwtCheck: extraChecks },
    usesLoopbackHttp ? { jwksCache: new SimpleJwksCache({ fetcher: loopbackHttpFetcher }) } : undefined,
  );
  return async (token) => {
    if (token.length > TOKEN_LIMITS.maxBytes) throw new TokenRejected("token too large");
    return verifier.verify(token);
  };
}
