import { createHash, createPublicKey, type KeyObject } from "node:crypto";

const MIN_RSA_BITS = 2048;
const EC_CURVES = new Set(["prime256v1", "secp384r1"]);

/**
 * An appliance's public key: a PEM SPKI (`-----BEGIN PUBLIC KEY-----`) of Ed25519, ECDSA P-256 or
 * P-384, or RSA of at least 2048 bits. Returns the normalized PEM and its SHA-256 fingerprint.
 */
export function parseAppliancePublicKey(pem: string): { pem: string; fingerprint: string } | undefined {
  if (!pem.trimStart().startsWith("-----BEGIN PUBLIC KEY-----")) return undefined;
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: "pem" });
  } catch {
    return undefined;
  }
  const details = key.asymmetricKeyDetails ?? {};
  const acceptable =
    key.asymmetricKeyType === "ed25519" ||
    (key.asymmetricKeyType === "ec" && EC_CURVES.has(String(details.namedCurve))) ||
    (key.asymmetricKeyType === "rsa" && (details.modulusLength ?? 0) >= MIN_RSA_BITS);
  if (!acceptable) return undefined;
  const der = key.export({ type: "spki", format: "der" });
  return {
    pem: key.export({ type: "spki", format: "pem" }).toString(),
    fingerprint: `SHA256:${createHash("sha256").update(der).digest("base64url")}`,
  };
}
