import { queryAudit } from "@bulkhead/core/audit/read";
import { cursorKey } from "@bulkhead/core/config";
import { defineHandler } from "@bulkhead/core/http/handler";
import { routes } from "@bulkhead/core/routes/audit";

export const handler = defineHandler(routes, "audit.list", async ({ query }, { table }) => {
  const { limit, cursor, order, ...filter } = query;
  return { body: await queryAudit(table!, cursorKey(), filter, { limit, cursor, order }) };
});
