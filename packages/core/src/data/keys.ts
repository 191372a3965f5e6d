import { TABLE_SCHEMA } from "./table-schema.ts";

/**
 * The one module that builds DynamoDB keys. Every tenant item's partition is `ORG#<org>` or
 * `ORG#<org>#…`; platform items live under `REGISTRY#…`. Ids never contain `#` (see ids.ts), so
 * `ORG#acme` can only be confused with `ORG#acme2` by a prefix test, which the guard never uses.
 */
export const TABLE_KEYS = { partition: TABLE_SCHEMA.partitionKey, sort: TABLE_SCHEMA.sortKey } as const;

export type ItemKey = { PK: string; SK: string };

export const orgPartition = (org: string): string => `ORG#${org}`;
export const appPartition = (org: string, appId: string): string => `ORG#${org}#APP#${appId}`;

export const keys = {
  app: (org: string, appId: string): ItemKey => ({ PK: orgPartition(org), SK: `APP#${appId}` }),
  appPrefix: "APP#",
  /** Deployments sort by their time-ordered id, so a reverse Query lists newest first. */
  deployment: (org: string, appId: string, deploymentId: string): ItemKey =>
    ({ PK: appPartition(org, appId), SK: `DEPLOY#${deploymentId}` }),
  deploymentPrefix: "DEPLOY#",
  /** An Idempotency-Key, stored as its SHA-256 (hex) so the caller's key never lands in the table. */
  deploymentIdempotency: (org: string, appId: string, keyHash: string): ItemKey =>
    ({ PK: appPartition(org, appId), SK: `IDEMPOTENCY#DEPLOY#${keyHash}` }),
  /** A deploy target the org registered (written by the targets work; read here). */
  target: (org: string, targetId: string): ItemKey => ({ PK: orgPartition(org), SK: `TARGET#${targetId}` }),
  /** The org record is platform data: read by tenant resolution before any tenant is known. */
  orgRecord: (org: string): ItemKey => ({ PK: `REGISTRY#ORG#${org}`, SK: "ORG" }),
} as const;

/** True when a partition value belongs to `org`: the exact partition or one under it. */
export function isOrgPartition(org: string, partition: string): boolean {
  const own = orgPartition(org);
  return partition === own || partition.startsWith(`${own}#`);
}

export const isRegistryPartition = (partition: string): boolean => partition.startsWith("REGISTRY#");
