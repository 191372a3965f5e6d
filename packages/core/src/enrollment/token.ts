import { createHash, randomBytes } from "node:crypto";

/**
 * Enrollment tokens: 256 random bits, base64url, behind a `bhe_` prefix so secret scanners can
 * recognize a leaked one. Only the SHA-256 is stored; a hash of 256 random bits needs no salt or
 * slow KDF, since there is nothing to guess.
 */
export const MAX_ENROLLMENT_TTL_SECONDS = 86_400;

const TOKEN = /^bhe_[A-Za-z0-9_-]{43}$/;

export const newEnrollmentToken = (): string => `bhe_${randomBytes(32).toString("base64url")}`;

export const isEnrollmentToken = (value: string): boolean => TOKEN.test(value);

/** Lower-case hex SHA-256: the token's key in the org's partition. */
export const hashEnrollmentToken = (token: string): string => createHash("sha256").update(token).digest("hex");

/** Enough of the hash to correlate log lines; reveals nothing usable. */
export const tokenHashLabel = (tokenHash: string): string => tokenHash.slice(0, 12);

/**
 * The enrollment route's credential travels as `Authorization: Enrollment <token>`: headers are
 * where credentials go (never echoed by validation errors, never in a body an audit or log might
 * capture), and the token is refused before the body is even parsed.
 */
export function enrollmentTokenFromHeader(header: string | undefined): string | undefined {
  const match = /^Enrollment (\S+)$/.exec(header ?? "");
  return match && isEnrollmentToken(match[1]!) ? match[1] : undefined;
}
