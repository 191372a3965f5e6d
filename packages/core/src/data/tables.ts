import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { AwsCredentialIdentityProvider } from "@smithy/types";
import { BoundedCache } from "../bounded-cache.ts";
import { tableName } from "../config.ts";
import { installGuard, type KeyScope } from "./guard.ts";
import { auditRecordPartition, isOrgPartition, isRegistryPartition } from "./keys.ts";
import { tenantCredentials } from "./tenant-credentials.ts";
import { TABLE_SCHEMA } from "./table-schema.ts";

/** A DynamoDB handle that can only reach the partitions of its scope. */
export type Table = { readonly name: string; readonly client: DynamoDBDocumentClient };
export type TenantTable = Table & { readonly org: string };

function guardedTable(scope: KeyScope, credentials?: AwsCredentialIdentityProvider): Table {
  const raw = new DynamoDBClient(credentials ? { credentials } : {});
  installGuard(raw.middlewareStack, scope);
  const client = DynamoDBDocumentClient.from(raw, {
    marshallOptions: { removeUndefinedValues: true },
  });
  return { name: scope.tableName, client };
}

const MAX_CACHED_ORGS = 256;

/** One cache of org handles per kind of caller, so no caller's commands pass through another's client. */
function orgTables(
  scopeOf: (org: string) => Omit<KeyScope, "tableName"> = (org) => ({ label: `ORG#${org}`, allows: (pk) => isOrgPartition(org, pk) }),
  credentialsOf: (org: string) => AwsCredentialIdentityProvider | undefined = tenantCredentials,
) {
  const cache = new BoundedCache<string, TenantTable>(MAX_CACHED_ORGS);
  return (org: string): TenantTable => {
    let table = cache.get(org);
    if (!table) {
      table = { org, ...guardedTable({ ...scopeOf(org), tableName: tableName() }, credentialsOf(org)) };
      cache.set(org, table);
    }
    return table;
  };
}

/**
 * The handle a request for `org` works through. One client per org: it is where the org's
 * session-tagged credentials attach in the cloud, and its guard is fixed at construction.
 */
export const tenantTable = orgTables();

/**
 * The audit sequencer's handle for `org`: the same guard and credentials as tenantTable, on a
 * client of its own (offline the sequencer runs in the API's process; its commands are not the
 * requests').
 */
export const sequencerTable = orgTables();

/**
 * The handle for a change to `org`'s registry record (create, suspend, resume, limits): the
 * registry's partitions and the org's audit record partition, nothing else, so the change and its
 * record commit in one transaction. With the function's own credentials, which may only append
 * records to an org's log besides the registry (iam/platform.ts).
 */
export const orgRegistryTable = orgTables(
  (org) => ({ label: `REGISTRY+${auditRecordPartition(org)}`, allows: (pk) => isRegistryPartition(pk) || pk === auditRecordPartition(org) }),
  () => undefined,
);

let platform: Table | undefined;

/** The handle for platform items (`REGISTRY#…`): only platform code paths receive it. */
export function platformTable(): Table {
  platform ??= guardedTable({
    label: "REGISTRY",
    tableName: tableName(),
    allows: isRegistryPartition,
  });
  return platform;
}

const indexTables = new Map<string, Table>();

/** A handle that may query one platform index, and nothing else: no table partition is in its scope. */
function indexOnlyTable(index: { name: string }, label: string): Table {
  let table = indexTables.get(index.name);
  if (!table) {
    table = guardedTable({ label, tableName: tableName(), allows: () => false, indexes: [index.name] });
    indexTables.set(index.name, table);
  }
  return table;
}

/**
 * The only handle that may query the KEK-rotation index. Only the rotation job receives it; each
 * app's work then goes through the app's org-bound handle.
 */
export const kekRotationIndexTable = (): Table => indexOnlyTable(TABLE_SCHEMA.indexes.kekRotation, "KEK-ROTATION-INDEX");

/**
 * The only handle that may query the active-deployments index. Only the stuck-deployment sweep
 * receives it; each deployment is then ended through its org-bound handle.
 */
export const activeDeploymentsIndexTable = (): Table => indexOnlyTable(TABLE_SCHEMA.indexes.activeDeployments, "ACTIVE-DEPLOYMENTS-INDEX");
