import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { CheckpointSigner } from "./signer.ts";

/**
 * OFFLINE STAND-IN for the KMS checkpoint key: an Ed25519 key in a file of the local data dir.
 * It proves the same protocol (sign, publish the public key, verify offline) without AWS; its
 * private key sits next to the data it anchors, so it is no anchor against someone holding
 * that directory. The cloud uses kms-signer.ts.
 */
export function ensureStandInCheckpointKey(keyFile: string): void {
  if (existsSync(keyFile)) return;
  const { privateKey } = generateKeyPairSync("ed25519");
  mkdirSync(dirname(keyFile), { recursive: true });
  writeFileSync(keyFile, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
}

export function standInCheckpointSigner(keyFile: string): CheckpointSigner {
  const privateKey = createPrivateKey(readFileSync(keyFile, "utf8"));
  if (privateKey.asymmetricKeyType !== "ed25519") throw new Error("the stand-in checkpoint key must be Ed25519");
  const publicKey = createPublicKey(privateKey);
  const fingerprint = createHash("sha256").update(publicKey.export({ type: "spki", format: "der" })).digest("hex").slice(0, 16);
  const description = { keyId: `stand-in-ed25519:${fingerprint}`, publicKeyPem: publicKey.export({ type: "spki", format: "pem" }) as string };
  return {
    algorithm: "Ed25519",
    describe: async () => description,
    sign: async (payload) => sign(null, payload, privateKey),
  };
}
