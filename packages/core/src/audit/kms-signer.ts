import { createPublicKey } from "node:crypto";
import { GetPublicKeyCommand, KMSClient, SignCommand } from "@aws-sdk/client-kms";
import type { CheckpointSigner } from "./signer.ts";

/**
 * Checkpoints signed by an asymmetric KMS key (key spec ECC_NIST_P256, usage SIGN_VERIFY): the
 * private key never leaves KMS, so code that can write the table cannot forge a checkpoint.
 * Needs kms:GetPublicKey and kms:Sign on that key only.
 */
export const KMS_SIGNING_ALGORITHM = "ECDSA_SHA_256";

export function kmsCheckpointSigner(keyId: string, client = new KMSClient({})): CheckpointSigner {
  let described: Promise<{ keyId: string; publicKeyPem: string }> | undefined;
  const describe = () => {
    described ??= client.send(new GetPublicKeyCommand({ KeyId: keyId })).then((key) => {
      if (key.KeyUsage !== "SIGN_VERIFY" || !key.SigningAlgorithms?.includes(KMS_SIGNING_ALGORITHM) || !key.PublicKey || !key.KeyId) {
        throw new Error(`KMS key ${keyId} is not an ${KMS_SIGNING_ALGORITHM} signing key`);
      }
      const publicKeyPem = createPublicKey({ key: Buffer.from(key.PublicKey), format: "der", type: "spki" })
        .export({ type: "spki", format: "pem" }) as string;
      return { keyId: key.KeyId, publicKeyPem };
    });
    described.catch(() => (described = undefined));
    return described;
  };
  return {
    algorithm: KMS_SIGNING_ALGORITHM,
    describe,
    async sign(payload) {
      const { keyId: arn } = await describe();
      const { Signature } = await client.send(new SignCommand({
        KeyId: arn,
        Message: payload,
        MessageType: "RAW",
        SigningAlgorithm: KMS_SIGNING_ALGORITHM,
      }));
      if (!Signature) throw new Error("KMS returned no signature");
      return Buffer.from(Signature);
    },
  };
}
