import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { open, seal, type CredentialAddress } from "@bulkhead/core/credentials/envelope";
import { round } from "./stats.ts";

const SIZES = [64, 1024, 32 * 1024];
const ROUNDS = 2000;

function perSecond(fn: () => void): number {
  for (let i = 0; i < 200; i++) fn();
  const start = process.hrtime.bigint();
  for (let i = 0; i < ROUNDS; i++) fn();
  return Math.round(ROUNDS / (Number(process.hrtime.bigint() - start) / 1e9));
}

/** One AES-256-GCM encryption and decryption of `plaintext`: the floor of any envelope scheme. */
function rawGcm(key: Buffer, plaintext: Buffer) {
  const nonce = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, nonce);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const tag = cipher.getAuthTag();
  const decipher = createDecipheriv("aes-256-gcm", key, nonce, { authTagLength: 16 });
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
}

/**
 * Bench 6: envelope encryption (fresh DEK, value sealed, DEK wrapped; then unwrapped and opened)
 * per second, beside one raw AES-256-GCM seal-and-open of the same size.
 */
export async function envelope() {
  const kek = { version: "bench-version-0000000000000000000000", key: randomBytes(32) };
  const address: CredentialAddress = { org: "acme", app: "a".repeat(26), scope: { kind: "system" }, name: "bench" };
  const results: Record<string, unknown> = {};
  for (const size of SIZES) {
    const plaintext = randomBytes(size);
    const envelopeRate = perSecond(() => {
      if (!open(seal(plaintext, address, kek), address, kek).equals(plaintext)) throw new Error("round trip failed");
    });
    const key = randomBytes(32);
    const rawRate = perSecond(() => rawGcm(key, plaintext));
    results[`${size}B`] = { envelopePerSecond: envelopeRate, rawGcmPerSecond: rawRate, envelopeVsRaw: round(envelopeRate / rawRate) };
  }
  return results;
}
