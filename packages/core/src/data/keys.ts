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
/** One partition per org holds its audit log: sequenced entries, signed tree heads, legacy checkpoints. */
export const auditPartition = (org: string): string => `ORG#${org}#AUDIT`;
/**
 * Unsequenced audit records, one item each, written in the transactions of the changes they
 * record: no two writers ever touch the same item. Its own partition, so the table's stream
 * orders an org's records by commit in one shard, apart from the sequencer's own writes.
 */
export const auditRecordPartition = (org: string): string => `ORG#${org}#AUDIT#PENDING`;

/** The org whose record partition `partition` is, or undefined for any other partition. */
export function orgOfAuditRecordPartition(partition: string): string | undefined {
  const org = /^ORG#([^#]+)#AUDIT#PENDING$/.exec(partition)?.[1];
  return org && auditRecordPartition(org) === partition ? org : undefined;
}

const AUDIT_RECORD_PREFIX = "AUDIT-RECORD#";
/** The ULID a record's key names: the inverse of keys.auditRecord. */
export const auditRecordIdOf = (key: ItemKey): string => key.SK.slice(AUDIT_RECORD_PREFIX.length);

/**
 * Request-rate buckets (limits/rate.ts): their own partition, because every request may change
 * them and nothing else of the org should share their write traffic.
 */
export const ratePartition = (org: string): string => `ORG#${org}#RATE`;
/** True for a rate-bucket partition of any org: what counts of a request's own DynamoDB work leave out. */
export const isRatePartition = (partition: unknown): boolean => typeof partition === "string" && /^ORG#[^#]+#RATE$/.test(partition);

/** Zero-padded so that sort-key order is seq order (room for 10^12 entries). */
const SEQ_DIGITS = 12;
export const MAX_AUDIT_SEQ = 10 ** SEQ_DIGITS - 1;
const padSeq = (seq: number): string => String(seq).padStart(SEQ_DIGITS, "0");

/** Whose credential: the app's own (system), or one user's of the app. */
export type CredentialScope = { kind: "system" } | { kind: "user"; sub: string };

const credentialScopeKey = (scope: CredentialScope): string =>
  scope.kind === "system" ? "system" : `user#${scope.sub}`;

/**
 * A listing of one kind of item in an app's partition (`<kind>#…`), read in one order. Its head
 * is a small item holding the app's state (live, or deleting since when), keyed to sort at the
 * end the listing's Query starts from: one Query then answers both "is there such an app?" and
 * "its first page". `#` is 0x23, so `<kind>` sorts before every `<kind>#…` key and `<kind>$`
 * after all of them; `SK BETWEEN <kind> AND <kind>$` holds the listing's items and its head,
 * nothing else of the partition. The head never starts with `<kind>#`, so code that walks the
 * items themselves (rotation, crypto-shredding) never meets it.
 */
export type AppListing = {
  readonly prefix: string;
  readonly order: "asc" | "desc";
  /** The head's sort key: just before the range when read ascending, just after it descending. */
  readonly head: string;
  /** The Query's sort-key bounds (inclusive): the range and its head. */
  readonly from: string;
  readonly to: string;
};

const appListing = (kind: string, order: AppListing["order"]): AppListing =>
  ({ prefix: `${kind}#`, order, head: order === "asc" ? kind : `${kind}$`, from: kind, to: `${kind}$` });

/** The app-scoped listings; each one's head is written with the app item, in the same transactions. */
export const APP_LISTINGS = {
  /** By scope and name. */
  credentials: appListing("CRED", "asc"),
  /** Newest first: deployment ids are time-ordered. */
  deployments: appListing("DEPLOY", "desc"),
  /** By ref. */
  sources: appListing("SOURCE", "asc"),
} as const;

const appListingHead = (org: string, appId: string, listing: AppListing): ItemKey => ({ PK: appPartition(org, appId), SK: listing.head });

/**
 * On the deployments listing head: the ids of the app's deployments that have not ended (a string
 * set). Written in the transactions that create and end deployments; an app delete requires it absent.
 */
export const ACTIVE_DEPLOYMENTS = "activeDeployments";

export const keys = {
  app: (org: string, appId: string): ItemKey => ({ PK: orgPartition(org), SK: `APP#${appId}` }),
  appPrefix: "APP#",
  /** Where `listing`'s head lies: in the app's own partition, beside the items it heads. */
  appListingHead,
  /** Every head of the app, for the transactions that create, mark and delete it. */
  appListingHeads: (org: string, appId: string): ItemKey[] =>
    Object.values(APP_LISTINGS).map((listing) => appListingHead(org, appId, listing)),
  /** A credential lives in its app's partition: `CRED#system#<name>` or `CRED#user#<sub>#<name>`. */
  credential: (org: string, appId: string, scope: CredentialScope, name: string): ItemKey => ({
    PK: appPartition(org, appId),
    SK: `CRED#${credentialScopeKey(scope)}#${name}`,
  }),
  credentialPrefix: APP_LISTINGS.credentials.prefix,
  /**
   * In the audit partition `CHECKPOINT#…` (legacy chain checkpoints) and `HEAD#…` (signed tree
   * heads) sort before `SEQ#…`: one ascending read meets every anchor before the first entry.
   */
  auditEntry: (org: string, seq: number): ItemKey => ({ PK: auditPartition(org), SK: `SEQ#${padSeq(seq)}` }),
  auditEntryPrefix: "SEQ#",
  auditCheckpoint: (org: string, seq: number): ItemKey => ({ PK: auditPartition(org), SK: `CHECKPOINT#${padSeq(seq)}` }),
  auditCheckpointPrefix: "CHECKPOINT#",
  /** The signed head of the org's tree at `treeSize`, with the tree's right edge (its frontier). */
  auditTreeHead: (org: string, treeSize: number): ItemKey => ({ PK: auditPartition(org), SK: `HEAD#${padSeq(treeSize)}` }),
  auditTreeHeadPrefix: "HEAD#",
  /** An unsequenced record, by its ULID. The prefix is unique in the table: the stream filter matches on it. */
  auditRecord: (org: string, id: string): ItemKey => ({ PK: auditRecordPartition(org), SK: `${AUDIT_RECORD_PREFIX}${id}` }),
  auditRecordPrefix: AUDIT_RECORD_PREFIX,
  /** Deployments sort by their time-ordered id, so a reverse Query lists newest first. */
  deployment: (org: string, appId: string, deploymentId: string): ItemKey =>
    ({ PK: appPartition(org, appId), SK: `DEPLOY#${deploymentId}` }),
  deploymentPrefix: APP_LISTINGS.deployments.prefix,
  /** An uploaded (or announced) source version: `SOURCE#<ref>`; refs are one path segment without `#`. */
  source: (org: string, appId: string, ref: string): ItemKey => ({ PK: appPartition(org, appId), SK: `${APP_LISTINGS.sources.prefix}${ref}` }),
  /** An Idempotency-Key, stored as its SHA-256 (hex) so the caller's key never lands in the table. */
  deploymentIdempotency: (org: string, appId: string, keyHash: string): ItemKey =>
    ({ PK: appPartition(org, appId), SK: `IDEMPOTENCY#DEPLOY#${keyHash}` }),
  /** A deploy target the org registered (written by the targets work; read here). */
  target: (org: string, targetId: string): ItemKey => ({ PK: orgPartition(org), SK: `TARGET#${targetId}` }),
  targetPrefix: "TARGET#",
  /** Enrollment tokens are found by their SHA-256 (hex); the token itself is never stored. */
  enrollment: (org: string, tokenHash: string): ItemKey => ({ PK: orgPartition(org), SK: `ENROLL#${tokenHash}` }),
  appliance: (org: string, applianceId: string): ItemKey => ({ PK: orgPartition(org), SK: `APPLIANCE#${applianceId}` }),
  /** Elevated grants by generated id; the standing Observe grant (if ever changed) is `GRANT#observe`. */
  grant: (org: string, grantId: string): ItemKey => ({ PK: orgPartition(org), SK: `GRANT#${grantId}` }),
  grantPrefix: "GRANT#",
  /**
   * Elevated vendor access as admission reads it: per phase and target, the latest grant's
   * decisions (one open grant per phase and target at a time).
   */
  phaseAccess: (org: string, phase: string, targetId: string): ItemKey => ({ PK: orgPartition(org), SK: `ACCESS#${phase}#${targetId}` }),
  phaseAccessPrefix: (phase: string): string => `ACCESS#${phase}#`,
  /** Puts a deployment item in the sparse active-deployments index, ordered by when it was queued. */
  activeDeploymentIndex: (queuedAt: string) => ({
    [TABLE_SCHEMA.indexes.activeDeployments.partitionKey]: TABLE_SCHEMA.indexes.activeDeployments.partitionValue,
    [TABLE_SCHEMA.indexes.activeDeployments.sortKey]: queuedAt,
  }),
  /** Puts an app item in the sparse KEK-rotation index, ordered by when its KEK last rotated. */
  kekRotationIndex: (rotatedAt: string) => ({
    [TABLE_SCHEMA.indexes.kekRotation.partitionKey]: TABLE_SCHEMA.indexes.kekRotation.partitionValue,
    [TABLE_SCHEMA.indexes.kekRotation.sortKey]: rotatedAt,
  }),
  /** The org's request-rate bucket, and each caller's (by a hash of its kind and sub, which may hold any character). */
  orgRateBucket: (org: string): ItemKey => ({ PK: ratePartition(org), SK: "ORG" }),
  principalRateBucket: (org: string, principalHash: string): ItemKey => ({ PK: ratePartition(org), SK: `PRINCIPAL#${principalHash}` }),
  /** The org's usage of its limits: the deployments that have not ended (a string set of `<appId>/<deploymentId>`). */
  orgUsage: (org: string): ItemKey => ({ PK: orgPartition(org), SK: "USAGE" }),
  /** Shards of a quota's count (limits/quota.ts): apps in the org's partition, credentials in the app's. */
  quotaShard: (partition: string, quota: string, shard: number): ItemKey => ({ PK: partition, SK: `USAGE#${quota}#${shard}` }),
  quotaShardPrefix: (quota: string): string => `USAGE#${quota}#`,
  /** The org record is platform data: read by tenant resolution before any tenant is known. */
  orgRecord: (org: string): ItemKey => ({ PK: `REGISTRY#ORG#${org}`, SK: "ORG" }),
} as const;

/** The org and app an app item's key names, or undefined when the key is not an app's. */
export function parseAppKey(key: { PK?: unknown; SK?: unknown }): { org: string; app: string } | undefined {
  const org = typeof key.PK === "string" && /^ORG#([^#]+)$/.exec(key.PK)?.[1];
  const app = typeof key.SK === "string" && /^APP#([^#]+)$/.exec(key.SK)?.[1];
  return org && app ? { org, app } : undefined;
}

/** The org, app and deployment a deployment item's key names, or undefined when the key is not a deployment's. */
export function parseDeploymentKey(key: { PK?: unknown; SK?: unknown }): { org: string; appId: string; deploymentId: string } | undefined {
  const app = typeof key.PK === "string" ? /^ORG#([^#]+)#APP#([^#]+)$/.exec(key.PK) : null;
  const deployment = typeof key.SK === "string" ? /^DEPLOY#([^#]+)$/.exec(key.SK) : null;
  return app && deployment ? { org: app[1]!, appId: app[2]!, deploymentId: deployment[1]! } : undefined;
}

/** True when a partition value belongs to `org`: the exact partition or one under it. */
export function isOrgPartition(org: string, partition: string): boolean {
  const own = orgPartition(org);
  return partition === own || partition.startsWith(`${own}#`);
}

export const isRegistryPartition = (partition: string): boolean => partition.startsWith("REGISTRY#");
