import { checkpointSignerConfig } from "../config.ts";
import type { CheckpointSigner } from "./signer.ts";

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
