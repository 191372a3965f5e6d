import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import { appPartition, keys, orgPartition } from "../data/keys.ts";
import type { TenantTable } from "../data/tables.ts";
import type { TransactionItem } from "../data/transaction.ts";
import { totalOf, type Quota } from "./quota.ts";

/** The org's live apps, counted in shards of its own partition. */
export const appsQuota = (org: string): Quota => ({ name: "apps", shardName: "APPS", partition: orgPartition(org), what: "The number of apps" });

/** One app's credentials, counted in shards of the app's partition (removed with it). */
export const credentialsQuota = (org: string, appId: string): Quota =>
  ({ name: "credentialsPerApp", shardName: "CRED", partition: appPartition(org, appId), what: "The number of credentials of one app" });

/** On the org's usage item: the deployments that have not ended, as `<appId>/<deploymentId>` (a string set). */
const RUNNING = "runningDeployments";

/**
 * Takes (ADD) or releases (DELETE) a deployment's slot on the org's usage item, in the transaction
 * that creates or ends the deployment, so a crash can neither leak a slot nor free one twice. A
 * set, not a counter: adding or removing the same deployment again changes nothing, and the item
 * names the deployments that hold slots. An ADD is refused once `limit` deployments hold one.
 */
export function runningDeploymentSlot(table: TenantTable, appId: string, deploymentId: string, action: "ADD" | "DELETE", limit?: number): TransactionItem {
  return {
    name: "slot",
    Update: {
      TableName: table.name,
      Key: keys.orgUsage(table.org),
      UpdateExpression: `${action} #running :slot`,
      ...(action === "ADD" && { ConditionExpression: "attribute_not_exists(#running) OR size(#running) < :limit" }),
      ExpressionAttributeNames: { "#running": RUNNING },
      ExpressionAttributeValues: { ":slot": new Set([`${appId}/${deploymentId}`]), ...(action === "ADD" && { ":limit": limit }) },
    },
  };
}

export type OrgUsage = { apps: number; runningDeployments: number };

/**
 * What the org uses of its limits now, in one strongly consistent Query: the usage item (`USAGE`)
 * sorts just before the apps quota's shards (`USAGE#APPS#…`), all in the org's partition.
 */
export async function orgUsage(table: TenantTable): Promise<OrgUsage> {
  const usage = keys.orgUsage(table.org);
  const { Items = [] } = await table.client.send(new QueryCommand({
    TableName: table.name,
    KeyConditionExpression: "PK = :pk AND begins_with(SK, :usage)",
    ExpressionAttributeValues: { ":pk": usage.PK, ":usage": usage.SK },
    ConsistentRead: true,
  }));
  const running = Items.find((item) => item.SK === usage.SK)?.[RUNNING] as Set<string> | undefined;
  return { apps: totalOf(Items, appsQuota(table.org)), runningDeployments: running?.size ?? 0 };
}
