import { queryAudit } from "@bulkhead/core/audit/read";
import { cursorKey } from "@bulkhead/core/config";
import { defineHandler } from "@bulkhead/core/http/handler";

export const handler = defineHandler("audit.list", async ({ query }, { table }) => {
  const { limit, cursor, order, ...filter } = query;
  return { body: await queryAudit(table!, cursorKey(), filter, { limit, cursor, order }) };
});
