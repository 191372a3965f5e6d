import { commitAudited, pendingAudit } from "../audit/chain.ts";
import { keys } from "../data/keys.ts";
import { tenantTable } from "../data/tables.ts";
import { TransactionRefused } from "../data/errors.ts";
import { generatedIdSchema, isOrgSlug } from "../ids.ts";
import { logger } from "../log.ts";
import { sourceRefSchema } from "./schemas.ts";

/** What an S3 event notification (ObjectCreated) says of one object, as this handler reads it. */
export type ObjectCreatedRecord = { bucket: string; key: string; size: number; eventTime: string; requestId?: string };

/** The org, app and ref a source object's key names, or undefined for any other key. */
export function parseSourceKey(key: string): { org: string; appId: string; ref: string } | undefined {
  const match = /^([^/]+)\/([^/]+)\/sources\/([^/]+)\.zip$/.exec(key);
  if (!match) return undefined;
  const [, org, appId, ref] = match as unknown as [string, string, string, string];
  if (!isOrgSlug(org) || !generatedIdSchema().safeParse(appId).success || !sourceRefSchema().safeParse(ref).success) return undefined;
  return { org, appId, ref };
}

const OBJECT_STORE_ACTOR = { kind: "system", sub: "object-store" } as const;

/**
 * Marks an announced source uploaded, with its size, and records that in the org's audit chain in
 * the same transaction. The key alone names the org and app (the upload form allowed only that
 * key), and the write goes through that org's tenant handle. S3 already refused any bytes but the
 * announced checksum, so the record's SHA-256 stands. An object no announcement matches (or one
 * already marked, a redelivered event) changes nothing.
 */
export async function recordSourceUploaded(record: ObjectCreatedRecord): Promise<"recorded" | "ignored"> {
  const source = parseSourceKey(record.key);
  if (!source) {
    logger.warn("object-created event for a key that is not a source", { key: record.key });
    return "ignored";
  }
  const table = tenantTable(source.org);
  const audit = pendingAudit({ actor: OBJECT_STORE_ACTOR, action: "sources.uploaded", requestId: record.requestId ?? record.eventTime });
  try {
    await commitAudited(table, audit, { appId: source.appId, ref: source.ref }, [{
      name: "source",
      Update: {
        TableName: table.name,
        Key: keys.source(source.org, source.appId, source.ref),
        UpdateExpression: "SET #status = :uploaded, #size = :size, uploadedAt = :at",
        ConditionExpression: "attribute_exists(PK) AND #status = :pending",
        ExpressionAttributeNames: { "#status": "status", "#size": "size" },
        ExpressionAttributeValues: { ":uploaded": "uploaded", ":pending": "pending", ":size": record.size, ":at": record.eventTime },
      },
    }]);
    return "recorded";
  } catch (error) {
    if (!(error instanceof TransactionRefused && error.failed("source"))) throw error;
    logger.info("object-created event matched no pending source", { org: source.org, app: source.appId, ref: source.ref });
    return "ignored";
  }
}
