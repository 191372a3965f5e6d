import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { appListingPage, getApp, LIVE_APP } from "../apps/index.ts";
import { commitAudited, type PendingAudit } from "../audit/chain.ts";
import { roleRank, type Principal } from "../auth/principal.ts";
import { APP_LISTINGS, keys, type CredentialScope } from "../data/keys.ts";
import type { TenantTable } from "../data/tables.ts";
import { TransactionRefused } from "../data/errors.ts";
import type { TransactionItem } from "../data/transaction.ts";
import { appNotFound, conflict, forbidden, notFound } from "../errors.ts";
import { KekNotFound } from "../key-stores/errors.ts";
import type { Kek, KeyStore } from "../key-stores/key-store.ts";
import { QuotaExceeded } from "../limits/errors.ts";
import { QUOTA_SHARD_ATTRIBUTE, uncountOne, withinQuota } from "../limits/quota.ts";
import { credentialsQuota } from "../limits/usage.ts";
import { logger } from "../log.ts";
import { limitsOf } from "../orgs/index.ts";
import { open, seal, type CredentialAddress, type Sealed } from "./envelope.ts";
import { credentialIntegrity, CredentialIntegrityError, credentialStoreMissing } from "./errors.ts";

/** One credential of one app; the org is always the table handle's. */
export type CredentialTarget = { app: string; scope: CredentialScope; name: string };

export type CredentialMetadata = {
  name: string;
  scope: CredentialScope["kind"];
  sub?: string;
  description?: string;
  /** Counts writes of this credential, starting at 1. */
  version: number;
  createdAt: string;
  updatedAt: string;
};

/** Attributes a listing reads. */
const METADATA = ["name", "scope", "sub", "description", "version", "createdAt", "updatedAt"] as const;

const toMetadata = (item: Record<string, any>): CredentialMetadata => ({
  name: item.name,
  scope: item.scope,
  sub: item.sub,
  description: item.description,
  version: item.version,
  createdAt: item.createdAt,
  updatedAt: item.updatedAt,
});

const addressOf = (table: TenantTable, target: CredentialTarget): CredentialAddress => ({ org: table.org, ...target });
const keyOf = (table: TenantTable, target: CredentialTarget) => keys.credential(table.org, target.app, target.scope, target.name);
const noSuchCredential = () => notFound("No such credential.");
/** What the audit record of a credential's change is drawn from (the route's `records` picks its fields); never its value. */
export type CredentialChange = { appId: string; name: string; sub?: string; version?: number };
const changeOf = (target: CredentialTarget, version?: number): CredentialChange => ({
  appId: target.app, name: target.name, ...(target.scope.kind === "user" && { sub: target.scope.sub }), ...(version !== undefined && { version }),
});
const logFields = (target: CredentialTarget) => ({
  app: target.app, scope: target.scope.kind, sub: target.scope.kind === "user" ? target.scope.sub : undefined, credential: target.name,
});

/** Members manage their own user-level credentials; admins and owners manage anyone's. */
export function assertMayManageUserCredentials(principal: Principal | undefined, sub: string): void {
  if (principal?.kind !== "member") throw forbidden("route needs an org member");
  if (principal.sub === sub || roleRank(principal.role) >= roleRank("admin")) return;
  throw forbidden("members manage only their own user credentials unless admin");
}

/** The app's current KEK; an app without one is a 404 when it does not exist (or is being deleted), else a 409. */
async function currentKek(keyStore: KeyStore, table: TenantTable, app: string): Promise<Kek> {
  try {
    return await keyStore.current({ org: table.org, app });
  } catch (error) {
    if (!(error instanceof KekNotFound)) throw error;
    await getApp(table, app, { consistent: true });
    throw credentialStoreMissing();
  }
}

/** What a new version keeps of the one it replaces: its creation time and the quota shard it counts in. */
type StoredVersion = { version: number; createdAt: string; [QUOTA_SHARD_ATTRIBUTE]?: number };

/**
 * The item one write of a credential stores: version 1, or the version after `previous` (whose
 * creation time it keeps), with the sealed value's parts as attributes of their own.
 */
export function credentialItem(
  table: TenantTable,
  target: CredentialTarget,
  sealed: Sealed,
  input: { description?: string },
  at: string,
  previous?: StoredVersion,
  shard = previous?.[QUOTA_SHARD_ATTRIBUTE],
) {
  return {
    ...keyOf(table, target),
    type: "credential",
    name: target.name,
    scope: target.scope.kind,
    sub: target.scope.kind === "user" ? target.scope.sub : undefined,
    description: input.description,
    version: (previous?.version ?? 0) + 1,
    createdAt: previous?.createdAt ?? at,
    updatedAt: at,
    [QUOTA_SHARD_ATTRIBUTE]: shard,
    ...sealed,
  };
}
type CredentialItem = ReturnType<typeof credentialItem>;

/**
 * Creates or replaces a credential. The value is sealed before anything is written, and the
 * write commits only while the app is live, so a credential can never land in an app that is
 * being deleted (whose KEK may already be gone). The request's audit entry commits in the same
 * transaction.
 */
export async function putCredential(
  table: TenantTable,
  keyStore: KeyStore,
  target: CredentialTarget,
  input: { value: string; description?: string },
  audit: PendingAudit,
  now = new Date(),
): Promise<CredentialMetadata> {
  const limits = await limitsOf(table.org);
  if (Buffer.byteLength(input.value, "utf8") > limits.credentialValueBytes) {
    throw new QuotaExceeded("credentialValueBytes", limits.credentialValueBytes, "A credential value's size in bytes of UTF-8", "size");
  }
  // No read of the app first: the transaction's condition on it decides, and an app with no KEK is looked up only then.
  const sealed = seal(Buffer.from(input.value, "utf8"), addressOf(table, target), await currentKek(keyStore, table, target.app));
  logger.debug("credential sealed", { ...logFields(target), kekVersion: sealed.kekVersion });
  const key = keyOf(table, target);
  const quota = credentialsQuota(table.org, target.app);
  for (let attempt = 1; ; attempt++) {
    const { Item: previous } = await table.client.send(new GetCommand({
      TableName: table.name, Key: key, ConsistentRead: true,
      ProjectionExpression: "#version, createdAt, #shard", ExpressionAttributeNames: { "#version": "version", "#shard": QUOTA_SHARD_ATTRIBUTE },
    }));
    /** Writes this version; undefined when the quota's count item (a new credential's) refused it. */
    const write = async (countItem?: TransactionItem, shard?: number): Promise<CredentialItem | undefined> => {
      const item = credentialItem(table, target, sealed, input, now.toISOString(), previous as StoredVersion | undefined, shard);
      try {
        await commitAudited(table, audit, changeOf(target, item.version), [
          { name: "app", ConditionCheck: { TableName: table.name, Key: keys.app(table.org, target.app), ConditionExpression: LIVE_APP } },
          {
            name: "credential",
            Put: {
              TableName: table.name,
              Item: item,
              ...(previous
                ? { ConditionExpression: "#version = :seen", ExpressionAttributeNames: { "#version": "version" }, ExpressionAttributeValues: { ":seen": previous.version } }
                : { ConditionExpression: "attribute_not_exists(PK)" }),
            },
          },
          ...(countItem ? [countItem] : []),
        ]);
      } catch (error) {
        if (countItem && error instanceof TransactionRefused && error.item === countItem.name) return undefined;
        throw error;
      }
      return item;
    };
    try {
      // A new credential counts against the app's quota in its own transaction; a new version
      // (no count item, so never refused for it) does not.
      const stored = previous ? (await write())! : await withinQuota(table, quota, limits.credentialsPerApp, write);
      logger.info("credential stored", { ...logFields(target), version: stored.version, kekVersion: sealed.kekVersion });
      return toMetadata(stored);
    } catch (error) {
      if (!(error instanceof TransactionRefused)) throw error;
      if (error.failed("app")) throw appNotFound();
      if (!error.failed("credential")) throw error;
      if (attempt >= 3) throw conflict("The credential was changed concurrently; retry.");
    }
  }
}

/** Metadata only: ciphertext never even leaves the table here. One Query for a first page. */
export async function listCredentials(
  table: TenantTable,
  cursorKey: string,
  app: string,
  page: { limit: number; cursor?: string },
): Promise<{ items: CredentialMetadata[]; cursor?: string }> {
  const { items, cursor } = await appListingPage(table, cursorKey, app, APP_LISTINGS.credentials, page, METADATA);
  return { items: items.map(toMetadata), cursor };
}

/** The credential leaves its app's quota in the transaction that deletes it (conditioned on the shard read, so on the item). */
export async function deleteCredential(table: TenantTable, target: CredentialTarget, audit: PendingAudit): Promise<void> {
  const { Item } = await table.client.send(new GetCommand({
    TableName: table.name, Key: keyOf(table, target), ConsistentRead: true,
    ProjectionExpression: "#shard", ExpressionAttributeNames: { "#shard": QUOTA_SHARD_ATTRIBUTE },
  }));
  const shard = Item?.[QUOTA_SHARD_ATTRIBUTE];
  const counted = typeof shard === "number";
  try {
    await commitAudited(table, audit, changeOf(target), [
      {
        name: "credential",
        Delete: {
          TableName: table.name,
          Key: keyOf(table, target),
          ...(counted
            ? { ConditionExpression: "#shard = :shard", ExpressionAttributeNames: { "#shard": QUOTA_SHARD_ATTRIBUTE }, ExpressionAttributeValues: { ":shard": shard } }
            : { ConditionExpression: "attribute_exists(PK)" }),
        },
      },
      ...(counted ? [uncountOne(table, credentialsQuota(table.org, target.app), shard)] : []),
    ]);
  } catch (error) {
    if (error instanceof TransactionRefused && error.failed("credential")) throw noSuchCredential();
    throw error;
  }
  logger.info("credential deleted", logFields(target));
}

/** The sealed parts of a stored item, refusing anything that is not shaped like one. */
function sealedOf(item: Record<string, any>): Sealed {
  const bytes = (value: unknown) => (value instanceof Uint8Array ? Buffer.from(value) : undefined);
  const parts = {
    ciphertext: bytes(item.ciphertext),
    nonce: bytes(item.nonce),
    tag: bytes(item.tag),
    wrappedDek: bytes(item.wrappedDek),
    kekVersion: item.kekVersion,
    sealedKekVersion: item.sealedKekVersion,
  };
  for (const [field, value] of Object.entries(parts)) {
    if (value === undefined || (typeof value !== "string" && !Buffer.isBuffer(value))) {
      throw new CredentialIntegrityError(`stored credential lacks ${field}`);
    }
  }
  return parts as Sealed;
}

/**
 * The only way to a plaintext value. Called by runtime routes alone; any failure to
 * authenticate the stored ciphertext is an integrity problem, logged without the value.
 */
export async function readCredentialValue(
  table: TenantTable,
  keyStore: KeyStore,
  target: CredentialTarget,
): Promise<CredentialMetadata & { value: string }> {
  const { Item } = await table.client.send(new GetCommand({ TableName: table.name, Key: keyOf(table, target), ConsistentRead: true }));
  if (!Item) throw noSuchCredential();
  let value: Buffer;
  try {
    const sealed = sealedOf(Item);
    const kek = await keyStore.version({ org: table.org, app: target.app }, String(sealed.kekVersion));
    value = open(sealed, addressOf(table, target), kek);
  } catch (error) {
    if (!(error instanceof CredentialIntegrityError || error instanceof KekNotFound)) throw error;
    logger.error("credential integrity failure", { ...logFields(target), reason: error.message, security: true });
    throw credentialIntegrity();
  }
  logger.info("credential value released to runtime", logFields(target));
  return { ...toMetadata(Item), value: value.toString("utf8") };
}
