/**
 * The port behind which checkpoints (signed tree heads) are signed: KMS in the cloud (kms-signer.ts), a stand-in key
 * offline (stand-in-signer.ts); select-signer.ts picks one.
 */

export type SignatureAlgorithm = "Ed25519" | "ECDSA_SHA_256";

export interface CheckpointSigner {
  readonly algorithm: SignatureAlgorithm;
  /** The key's id as recorded in checkpoints, and its public key (SPKI PEM) for verifiers. */
  describe(): Promise<{ keyId: string; publicKeyPem: string }>;
  sign(payload: Buffer): Promise<Buffer>;
}
