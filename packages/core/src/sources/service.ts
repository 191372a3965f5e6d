import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { appListingPage, LIVE_APP } from "../apps/index.ts";
import { commitAudited, type PendingAudit } from "../audit/chain.ts";
import type { Principal } from "../auth/principal.ts";
import { APP_LISTINGS, keys } from "../data/keys.ts";
import type { TenantTable } from "../data/tables.ts";
import { TransactionRefused } from "../data/errors.ts";
import { sourceObjectKey } from "../iam/names.ts";
import { appNotFound, conflict, invalidRequest } from "../errors.ts";
import type { SourcesConfig } from "./config.ts";
import { presignSourceUpload, type UploadForm } from "./uploads.ts";

/** What the API shows of a source version. */
export type Source = {
  ref: string;
  sha256: string;
  /** `pending` from the form's issue until S3 reports the object (sources/uploaded.ts). */
  status: "pending" | "uploaded";
  size?: number;
  createdBy: string;
  createdAt: string;
  uploadedAt?: string;
};

const SOURCE_FIELDS = ["ref", "sha256", "status", "size", "createdBy", "createdAt", "uploadedAt"] as const;

const toSource = (item: Record<string, any>): Source =>
  Object.fromEntries(SOURCE_FIELDS.filter((f) => item[f] !== undefined).map((f) => [f, item[f]])) as Source;

export type SourceUpload = { source: Source; upload: UploadForm & { fileField: "file"; maxBytes: number } };

/**
 * Records the source version (pending) and returns the form that uploads it. A ref names one
 * content for good: issuing a form again is allowed only for the same SHA-256 while the upload
 * is pending (a retry); other bytes under a taken ref are a 409. The record and the request's
 * audit entry commit in one transaction, and only while the app is live.
 */
export async function issueSourceUpload(
  table: TenantTable,
  config: SourcesConfig,
  input: { appId: string; ref: string; sha256: string; size?: number },
  principal: Principal,
  audit: PendingAudit,
  now = new Date(),
): Promise<SourceUpload> {
  if (input.size !== undefined && input.size > config.maxBytes) {
    throw invalidRequest(`The source is ${input.size} bytes; uploads may be at most ${config.maxBytes} bytes.`, {
      errors: [{ path: "size", message: `at most ${config.maxBytes}` }],
    });
  }
  const source: Source = { ref: input.ref, sha256: input.sha256, status: "pending", createdBy: principal.sub, createdAt: now.toISOString() };
  try {
    await commitAudited(table, audit, { appId: input.appId, ...source }, [
      { name: "app", ConditionCheck: { TableName: table.name, Key: keys.app(table.org, input.appId), ConditionExpression: LIVE_APP } },
      {
        name: "source",
        Put: {
          TableName: table.name,
          Item: { ...keys.source(table.org, input.appId, input.ref), type: "source", ...source },
          ConditionExpression: "attribute_not_exists(PK) OR (sha256 = :sha AND #status = :pending)",
          ExpressionAttributeNames: { "#status": "status" },
          ExpressionAttributeValues: { ":sha": input.sha256, ":pending": "pending" },
        },
      },
    ]);
  } catch (error) {
    if (!(error instanceof TransactionRefused)) throw error;
    if (error.failed("app")) throw appNotFound();
    if (!error.failed("source")) throw error;
    throw conflict(`Source "${input.ref}" already exists with other content or is already uploaded; sources are immutable, use a new ref.`);
  }
  const form = await presignSourceUpload(config, { key: sourceObjectKey(table.org, input.appId, input.ref), sha256Hex: input.sha256 }, now);
  return { source, upload: { ...form, fileField: "file", maxBytes: config.maxBytes } };
}

/** By ref; 404 for an app that does not exist or is being deleted. One Query for a first page. */
export async function listSources(table: TenantTable, cursorKey: string, appId: string, page: { limit: number; cursor?: string }) {
  const { items, cursor } = await appListingPage(table, cursorKey, appId, APP_LISTINGS.sources, page, SOURCE_FIELDS);
  return { items: items.map(toSource), cursor };
}

/** The app's own source of that ref, or undefined: a deployment can name nothing else. */
export async function findSource(table: TenantTable, appId: string, ref: string): Promise<Source | undefined> {
  const { Item } = await table.client.send(new GetCommand({ TableName: table.name, Key: keys.source(table.org, appId, ref), ConsistentRead: true }));
  return Item && toSource(Item);
}
