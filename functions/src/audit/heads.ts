import { listTreeHeads } from "@bulkhead/core/audit/read";
import { checkpointSigner } from "@bulkhead/core/audit/select-signer";
import { cursorKey } from "@bulkhead/core/config";
import { defineHandler } from "@bulkhead/core/http/handler";
import { routes } from "@bulkhead/core/routes/audit";

export const handler = defineHandler(routes, "audit.heads", async ({ query }, { table }) => {
  const signer = await checkpointSigner();
  const [page, key] = await Promise.all([listTreeHeads(table!, cursorKey(), query), signer.describe()]);
  return { body: { ...page, publicKey: { keyId: key.keyId, algorithm: signer.algorithm, pem: key.publicKeyPem } } };
});
