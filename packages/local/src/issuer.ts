import { createHash, createPublicKey, generateKeyPairSync, sign, type KeyObject, createPrivateKey } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

/** The offline stand-in for an OIDC provider: one RS256 key, a JWKS, and a token minter. */
export const DEV_ISSUER = { issuer: "http://localhost/dev-issuer", audience: "bulkhead-api" } as const;

export type DevIssuer = {
  jwks: { keys: object[] };
  mint: (claims: Record<string, unknown>, options?: { ttlSeconds?: number; header?: Record<string, unknown> }) => string;
  privateKey: KeyObject;
  kid: string;
};

const b64url = (value: object | Buffer) =>
  (Buffer.isBuffer(value) ? value : Buffer.from(JSON.stringify(value))).toString("base64url");

/** Signs any header and payload with RS256; tests use it to build deliberately bad tokens too. */
export function signJwt(privateKey: KeyObject, header: Record<string, unknown>, payload: Record<string, unknown>): string {
  const input = `${b64url(header)}.${b64url(payload)}`;
  return `${input}.${b64url(sign("sha256", Buffer.from(input), privateKey))}`;
}

/** Loads the dev key from `dataDir` (creating it on first run) or makes a throwaway one. */
export function loadDevIssuer(dataDir?: string): DevIssuer {
  const file = dataDir ? join(dataDir, "dev-issuer-key.pem") : undefined;
  let privateKey: KeyObject;
  if (file && existsSync(file)) {
    privateKey = createPrivateKey(readFileSync(file, "utf8"));
  } else {
    privateKey = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
    if (file) {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
    }
  }
  const publicJwk = createPublicKey(privateKey).export({ format: "jwk" });
  const kid = createHash("sha256").update(String(publicJwk.n)).digest("base64url").slice(0, 16);
  return {
    privateKey,
    kid,
    jwks: { keys: [{ ...publicJwk, kid, alg: "RS256", use: "sig" }] },
    mint(claims, { ttlSeconds = 3600, header = {} } = {}) {
      const now = Math.floor(Date.now() / 1000);
      return signJwt(
        privateKey,
        { alg: "RS256", typ: "at+jwt", kid, ...header },
        { iss: DEV_ISSUER.issuer, aud: DEV_ISSUER.audience, iat: now, exp: now + ttlSeconds, ...claims },
      );
    },
  };
}
