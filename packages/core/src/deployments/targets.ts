import type { TenantTable } from "../data/tables.ts";
import { parseRoleArn } from "../targets/aws-names.ts";
import { findDeployTarget } from "../targets/targets.ts";
import { deploymentsConfig } from "./config.ts";
import type { ResolvedTarget } from "./ports.ts";
import type { TargetRef } from "./records.ts";

export const HOSTED_TARGET_ID = "hosted";

const hostedAccount = (id: string): ResolvedTarget => {
  const { roleArn, region, externalId } = deploymentsConfig().hostedTarget;
  return { id, kind: "hosted", roleArn, region, externalId, accountId: parseRoleArn(roleArn)?.accountId ?? "" };
};

/**
 * Resolves a target id to how it is reached: the platform's own account for `hosted` (and for a
 * target the org registered as kind `hosted`, which names that same account), or a BYOI target
 * the org registered, read through the targets module (the one reader of target items), with
 * the customer's deploy role and the ExternalId the platform generated for it. Undefined when the
 * org has no such target, or it was deleted. The result holds the ExternalId: it stays inside
 * the calling task.
 */
export async function resolveTarget(table: TenantTable, targetId: string): Promise<ResolvedTarget | undefined> {
  if (targetId === HOSTED_TARGET_ID) return hostedAccount(HOSTED_TARGET_ID);
  const target = await findDeployTarget(table, targetId);
  if (!target) return undefined;
  if (target.kind === "hosted") return hostedAccount(target.id);
  const role = target.deployRoleArn === undefined ? undefined : parseRoleArn(target.deployRoleArn);
  if (!role || !target.externalId || !target.region) return undefined;
  return {
    id: target.id,
    kind: "byoi",
    roleArn: target.deployRoleArn!,
    externalId: target.externalId,
    region: target.region,
    accountId: role.accountId,
  };
}

export const targetRef = (target: ResolvedTarget): TargetRef => ({ id: target.id, kind: target.kind });
