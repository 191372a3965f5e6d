import { exportAudit } from "@bulkhead/core/audit/read";
import { cursorKey } from "@bulkhead/core/config";
import { defineHandler } from "@bulkhead/core/http/handler";
import { routes } from "@bulkhead/core/routes/audit";

export const handler = defineHandler(routes, "audit.export", async ({ query }, { table }) => {
  const page = await exportAudit(table!, cursorKey(), query);
  const headers: Record<string, string> = { "content-type": "application/x-ndjson", "x-audit-entries": String(page.count) };
  if (page.cursor) {
    headers.link = `</v1/audit/export?limit=${query.limit}&cursor=${encodeURIComponent(page.cursor)}>; rel="next"`;
  }
  return { text: page.jsonl, headers };
});
