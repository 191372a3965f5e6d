import { verifyAuditChain } from "@bulkhead/core/audit/checkpoints";
import { checkpointSigner } from "@bulkhead/core/audit/signer";
import { defineHandler } from "@bulkhead/core/http/handler";

export const handler = defineHandler("audit.verify", async (_input, { table }) => ({
  body: await verifyAuditChain(table!, await checkpointSigner()),
}));
