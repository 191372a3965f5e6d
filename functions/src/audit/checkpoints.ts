import { listCheckpoints } from "@bulkhead/core/audit/checkpoints";
import { checkpointSigner } from "@bulkhead/core/audit/signer";
import { cursorKey } from "@bulkhead/core/config";
import { defineHandler } from "@bulkhead/core/http/handler";

export const handler = defineHandler("audit.checkpoints", async ({ query }, { table }) => {
  const signer = await checkpointSigner();
  const [page, key] = await Promise.all([listCheckpoints(table!, cursorKey(), query), signer.describe()]);
  return { body: { ...page, publicKey: { keyId: key.keyId, algorithm: signer.algorithm, pem: key.publicKeyPem } } };
});
