import { verifyAuditLog } from "@bulkhead/core/audit/verify-stored";
import { checkpointSigner } from "@bulkhead/core/audit/select-signer";
import { defineHandler } from "@bulkhead/core/http/handler";
import { routes } from "@bulkhead/core/routes/audit";

export const handler = defineHandler(routes, "audit.verify", async (_input, { table }) => ({
  body: await verifyAuditLog(table!, await checkpointSigner()),
}));
