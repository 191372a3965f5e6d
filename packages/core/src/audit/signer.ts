import { checkpointSignerConfig } from "../config.ts";
import type { SignatureAlgorithm } from "./tree-heads.ts";

/** The port behind which checkpoints are signed: KMS in the cloud, a stand-in key offline. */
export interface CheckpointSigner {
  readonly algorithm: SignatureAlgorithm;
  /** The key's id as recorded in checkpoints, and its public key (SPKI PEM) for verifiers. */
  describe(): Promise<{ keyId: string; publicKeyPem: string }>;
  sign(payload: Buffer): Promise<Buffer>;
}

let configured: Promise<CheckpointSigner> | undefined;

/** The signer this deployment is configured with; adapters load only when first needed. */
export function checkpointSigner(): Promise<CheckpointSigner> {
  configured ??= (async () => {
    const signer = checkpointSignerConfig();
    switch (signer.kind) {
      case "kms":
        return (await import("./kms-signer.ts")).kmsCheckpointSigner(signer.keyId);
      case "stand-in-ed25519":
        return (await import("./stand-in-signer.ts")).standInCheckpointSigner(signer.keyFile);
      default:
        throw new Error(`unknown checkpoint signer ${(signer as { kind: string }).kind}`);
    }
  })();
  configured.catch(() => (configured = undefined));
  return configured;
}
