import { pendingCount, queryAudit } from "@bulkhead/core/audit/read";
import { cursorKey } from "@bulkhead/core/config";
import { defineHandler } from "@bulkhead/core/http/handler";
import { routes } from "@bulkhead/core/routes/audit";

export const handler = defineHandler(routes, "audit.list", async ({ query }, { table }) => {
  const { limit, cursor, order, ...filter } = query;
  const [page, pending] = await Promise.all([queryAudit(table!, cursorKey(), filter, { limit, cursor, order }), pendingCount(table!)]);
  return { body: { ...page, pending } };
});
