import { keyStore } from "@bulkhead/core/key-stores/select-key-store";
import { rotateAppKek } from "@bulkhead/core/credentials/rotation/app";
import { defineHandler } from "@bulkhead/core/http/handler";
import { routes } from "@bulkhead/core/routes/apps";
import { rotationBusy, rotationDeferred } from "@bulkhead/core/credentials/errors";
import { appNotFound } from "@bulkhead/core/errors";

export const handler = defineHandler(routes, "apps.rotate", async ({ params }, { table, audit }) => {
  const result = await rotateAppKek(table!, keyStore(), params.appId, { force: true, audit });
  switch (result.outcome) {
    case "rotated":
    case "resumed":
      return { body: { app: result.app, outcome: result.outcome, kekVersion: result.kekVersion, kekRotatedAt: result.kekRotatedAt, rewrapped: result.rewrapped, retired: result.retired } };
    case "deferred":
      throw rotationDeferred(result.deferredUntil!);
    case "busy":
      throw rotationBusy();
    default:
      throw appNotFound();
  }
});
