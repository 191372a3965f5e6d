import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { keys } from "../data/keys.ts";
import type { TenantTable } from "../data/tables.ts";
import { deploymentsConfig } from "./config.ts";
import type { ResolvedTarget } from "./ports.ts";
import type { TargetRef } from "./records.ts";

export const HOSTED_TARGET_ID = "hosted";

const accountOf = (roleArn: string): string => /^arn:aws[a-z-]*:iam::(\d{12}):role\//.exec(roleArn)?.[1] ?? "";

/**
 * Resolves a target id to how it is reached: the platform's own account for `hosted`, or a
 * target the org registered (`ORG#<org>` / `TARGET#<id>`, written by the targets work) with the
 * customer's deploy role and the ExternalId the platform generated for it. Undefined when the org
 * has no such target. The result holds the ExternalId: it stays inside the calling task.
 */
export async function resolveTarget(table: TenantTable, targetId: string): Promise<ResolvedTarget | undefined> {
  if (targetId === HOSTED_TARGET_ID) {
    const { roleArn, region, externalId } = deploymentsConfig().hostedTarget;
    return { id: HOSTED_TARGET_ID, kind: "hosted", roleArn, region, externalId, accountId: accountOf(roleArn) };
  }
  const { Item } = await table.client.send(new GetCommand({ TableName: table.name, Key: keys.target(table.org, targetId) }));
  if (!Item || Item.kind !== "byoi" || typeof Item.roleArn !== "string" || typeof Item.externalId !== "string") return undefined;
  return {
    id: targetId,
    kind: "byoi",
    roleArn: Item.roleArn,
    externalId: Item.externalId,
    region: typeof Item.region === "string" ? Item.region : deploymentsConfig().region,
    accountId: accountOf(Item.roleArn),
  };
}

export const targetRef = (target: ResolvedTarget): TargetRef => ({ id: target.id, kind: target.kind });
