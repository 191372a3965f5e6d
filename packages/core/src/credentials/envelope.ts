import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import type { CredentialScope } from "../data/keys.ts";
import type { Kek } from "../key-stores/key-store.ts";
import { CredentialIntegrityError } from "./errors.ts";

/**
 * Envelope encryption of one credential value (README, "Isolation, layer by layer", layer 5, and "Credentials").
 *
 * - A fresh random 256-bit data key (DEK) per sealed value; it encrypts exactly one value.
 * - The value: AES-256-GCM, random 96-bit nonce, 16-byte tag, additional data binding org, app,
 *   scope, name and the KEK version current when it was sealed.
 * - The DEK: wrapped by the app's KEK with AES-256-GCM and its own additional data (the same
 *   address and the KEK version that wraps it). Rotation re-wraps the DEK and leaves the value's
 *   ciphertext untouched, which is why the value records the version it was sealed under apart
 *   from the version that wraps its DEK today.
 * - Every decryption passes `authTagLength: 16` and checks lengths first: Node would otherwise
 *   accept a truncated tag.
 */

/** Where a credential lives; every part is bound into the additional data. */
export type CredentialAddress = { org: string; app: string; scope: CredentialScope; name: string };

export type Sealed = {
  ciphertext: Buffer;
  nonce: Buffer;
  tag: Buffer;
  /** nonce (12) ‖ encrypted DEK (32) ‖ tag (16). */
  wrappedDek: Buffer;
  /** The KEK version that wraps the DEK now. */
  kekVersion: string;
  /** The KEK version that was current when the value was sealed; part of the value's additional data. */
  sealedKekVersion: string;
};

export const ALGORITHM = "aes-256-gcm";
export const KEY_BYTES = 32;
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
export const WRAPPED_DEK_BYTES = NONCE_BYTES + KEY_BYTES + TAG_BYTES;

/**
 * The canonical additional data: a JSON array of strings in a fixed order. JSON string encoding
 * is deterministic and self-delimiting, so no two different addresses encode alike.
 */
export function additionalData(purpose: "value" | "dek", address: CredentialAddress, kekVersion: string): Buffer {
  const { org, app, scope, name } = address;
  const sub = scope.kind === "user" ? scope.sub : "";
  return Buffer.from(JSON.stringify(["bulkhead.credential.v1", purpose, org, app, scope.kind, sub, name, kekVersion]), "utf8");
}

function encrypt(key: Buffer, plaintext: Buffer, aad: Buffer) {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv(ALGORITHM, key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { nonce, ciphertext, tag: cipher.getAuthTag() };
}

function decrypt(key: Buffer, parts: { nonce: Buffer; ciphertext: Buffer; tag: Buffer }, aad: Buffer, what: string): Buffer {
  if (key.length !== KEY_BYTES) throw new CredentialIntegrityError(`${what}: key has the wrong length`);
  if (parts.nonce.length !== NONCE_BYTES) throw new CredentialIntegrityError(`${what}: nonce has the wrong length`);
  if (parts.tag.length !== TAG_BYTES) throw new CredentialIntegrityError(`${what}: tag has the wrong length`);
  try {
    const decipher = createDecipheriv(ALGORITHM, key, parts.nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(aad);
    decipher.setAuthTag(parts.tag);
    return Buffer.concat([decipher.update(parts.ciphertext), decipher.final()]);
  } catch {
    throw new CredentialIntegrityError(`${what}: authentication failed`);
  }
}

function wrapDek(dek: Buffer, address: CredentialAddress, kek: Kek): Buffer {
  const { nonce, ciphertext, tag } = encrypt(kek.key, dek, additionalData("dek", address, kek.version));
  return Buffer.concat([nonce, ciphertext, tag]);
}

/** Unwraps a DEK. Exported for rotation and for tests that inspect DEK uniqueness. */
export function unwrapDek(sealed: Pick<Sealed, "wrappedDek" | "kekVersion">, address: CredentialAddress, kek: Kek): Buffer {
  if (kek.version !== sealed.kekVersion) throw new CredentialIntegrityError("DEK: wrapped under another KEK version");
  const wrapped = sealed.wrappedDek;
  if (wrapped.length !== WRAPPED_DEK_BYTES) throw new CredentialIntegrityError("DEK: wrapped key has the wrong length");
  const parts = {
    nonce: wrapped.subarray(0, NONCE_BYTES),
    ciphertext: wrapped.subarray(NONCE_BYTES, NONCE_BYTES + KEY_BYTES),
    tag: wrapped.subarray(NONCE_BYTES + KEY_BYTES),
  };
  return decrypt(kek.key, parts, additionalData("dek", address, kek.version), "DEK");
}

/** Seals a value under a fresh DEK, wrapped by `kek`. */
export function seal(value: Buffer, address: CredentialAddress, kek: Kek): Sealed {
  const dek = randomBytes(KEY_BYTES);
  try {
    const { nonce, ciphertext, tag } = encrypt(dek, value, additionalData("value", address, kek.version));
    return { ciphertext, nonce, tag, wrappedDek: wrapDek(dek, address, kek), kekVersion: kek.version, sealedKekVersion: kek.version };
  } finally {
    dek.fill(0);
  }
}

/** Opens a sealed value with the KEK version that wraps its DEK. Any mismatch is a CredentialIntegrityError. */
export function open(sealed: Sealed, address: CredentialAddress, kek: Kek): Buffer {
  const dek = unwrapDek(sealed, address, kek);
  try {
    return decrypt(dek, sealed, additionalData("value", address, sealed.sealedKekVersion), "value");
  } finally {
    dek.fill(0);
  }
}

/**
 * Re-wraps a DEK from one KEK version to another. Only the wrapped DEK and its KEK version
 * change; the value's ciphertext, nonce, tag and `sealedKekVersion` stay as they are.
 */
export function rewrap(
  sealed: Pick<Sealed, "wrappedDek" | "kekVersion">,
  address: CredentialAddress,
  from: Kek,
  to: Kek,
): Pick<Sealed, "wrappedDek" | "kekVersion"> {
  const dek = unwrapDek(sealed, address, from);
  try {
    return { wrappedDek: wrapDek(dek, address, to), kekVersion: to.version };
  } finally {
    dek.fill(0);
  }
}
