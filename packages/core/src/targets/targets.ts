import { randomBytes } from "node:crypto";
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { keys } from "../data/keys.ts";
import { queryPage, type Page } from "../data/page.ts";
import type { TenantTable } from "../data/tables.ts";
import { commitAudited, type PendingAudit } from "../audit/chain.ts";
import { TransactionRefused } from "../data/errors.ts";
import type { TransactionItem } from "../data/transaction.ts";
import { ELEVATED_PHASES } from "../grants/phases.ts";
import { customerDeployRoleName, DEPLOY_ROLE_NAME_RULE, isCustomerDeployRole } from "../iam/deploy-role-name.ts";
import { conditions } from "../grants/state.ts";
import { newId } from "../ids.ts";
import { conflict, invalidRequest, notFound } from "../errors.ts";
import { parseRoleArn } from "./aws-names.ts";
import { customerDeployTrust } from "../iam/customer-deploy-trust.ts";
import type { PolicyDocument } from "../iam/document.ts";

export type TargetKind = "hosted" | "byoi";
export type Target = {
  id: string;
  name: string;
  kind: TargetKind;
  accountId?: string;
  deployRoleArn?: string;
  region?: string;
  createdAt: string;
};
/** What the deploy workflow needs to assume a BYOI target's role. Never leaves the server. */
export type DeployTarget = Target & { externalId?: string };

export type NewTarget =
  | { name: string; kind: "hosted" }
  | { name: string; kind: "byoi"; accountId: string; deployRoleArn: string; region: string };

/** Returned once, at creation: the ExternalId, the trust policy the customer pastes, and the role's naming rule. */
export type CreatedTarget = Target & { externalId?: string; trustPolicy?: PolicyDocument; deployRoleNaming?: string };

const TARGET_FIELDS = ["id", "name", "kind", "accountId", "deployRoleArn", "region", "createdAt"] as const;

/** Deliberately an allow-list: the stored ExternalId is not among these fields. */
const toTarget = (item: Record<string, any>): Target =>
  Object.fromEntries(TARGET_FIELDS.filter((f) => item[f] !== undefined).map((f) => [f, item[f]])) as Target;

const noSuchTarget = () => notFound("No such target.");

/** 32 random bytes as base64url: 43 characters, all within STS's ExternalId alphabet. */
export const newExternalId = (): string => randomBytes(32).toString("base64url");

const deployRoleNaming = (org: string) => `${DEPLOY_ROLE_NAME_RULE} (for this org: ${customerDeployRoleName(org)}).`;

/**
 * The request schema admits any org's deploy-role name; a target's role must be its own org's,
 * the name its generated documents (`npm run policies`) and the README give it.
 */
function assertOwnDeployRole(org: string, input: NewTarget): void {
  if (input.kind !== "byoi") return;
  const role = parseRoleArn(input.deployRoleArn);
  if (role && isCustomerDeployRole(role, org)) return;
  throw invalidRequest("The request does not match the schema.", { errors: [{ path: "deployRoleArn", message: deployRoleNaming(org) }] });
}

export async function createTarget(
  table: TenantTable,
  input: NewTarget,
  deployerRoleArn: string,
  audit: PendingAudit,
  now = new Date(),
): Promise<CreatedTarget> {
  assertOwnDeployRole(table.org, input);
  const target: Target = { id: newId(), ...input, createdAt: now.toISOString() };
  const externalId = input.kind === "byoi" ? newExternalId() : undefined;
  // The record is drawn from the target without its ExternalId.
  await commitAudited(table, audit, target, [{
    name: "target",
    Put: {
      TableName: table.name,
      Item: { ...keys.target(table.org, target.id), type: "target", ...target, externalId },
      ConditionExpression: "attribute_not_exists(PK)",
    },
  }]);
  if (!externalId) return target;
  return {
    ...target,
    externalId,
    trustPolicy: customerDeployTrust({ deployerRoleArn, externalId, org: table.org }),
    deployRoleNaming: deployRoleNaming(table.org),
  };
}

export async function getTarget(table: TenantTable, targetId: string): Promise<Target> {
  return toTarget(await readTargetItem(table, targetId));
}

/** For the deploy workflow only: the target with its ExternalId. */
export async function readDeployTarget(table: TenantTable, targetId: string): Promise<DeployTarget> {
  const target = await findDeployTarget(table, targetId);
  if (!target) throw noSuchTarget();
  return target;
}

/** As readDeployTarget, but undefined when the org has no such target (never registered, or deleted). */
export async function findDeployTarget(table: TenantTable, targetId: string): Promise<DeployTarget | undefined> {
  const item = await findTargetItem(table, targetId);
  return item && { ...toTarget(item), externalId: item.externalId };
}

async function readTargetItem(table: TenantTable, targetId: string) {
  const item = await findTargetItem(table, targetId);
  if (!item) throw noSuchTarget();
  return item;
}

async function findTargetItem(table: TenantTable, targetId: string) {
  const { Item } = await table.client.send(new GetCommand({ TableName: table.name, Key: keys.target(table.org, targetId) }));
  return Item;
}

export async function listTargets(table: TenantTable, cursorKey: string, page: Page) {
  // The ExternalId is not even read: only the listed fields.
  const { items, last, cursorAfter } = await queryPage(table, cursorKey, keys.targetPrefix, page, {
    ProjectionExpression: TARGET_FIELDS.map((_, i) => `#f${i}`).join(", "),
    ExpressionAttributeNames: Object.fromEntries(TARGET_FIELDS.map((field, i) => [`#f${i}`, field])),
  });
  return { items: items.map(toTarget), cursor: cursorAfter(last) };
}

/**
 * Deletes the target and its closed access items in one transaction; refused while any elevated
 * grant on it is open (revoke or deny it first). Grant records stay, as history.
 */
export async function deleteTarget(table: TenantTable, targetId: string, audit: PendingAudit, now = new Date()): Promise<void> {
  try {
    await commitAudited(table, audit, { targetId }, [
      { name: "target", Delete: { TableName: table.name, Key: keys.target(table.org, targetId), ConditionExpression: "attribute_exists(PK)" } },
      ...ELEVATED_PHASES.map((phase): TransactionItem => ({
        name: `access:${phase}`,
        Delete: {
          TableName: table.name,
          Key: keys.phaseAccess(table.org, phase, targetId),
          ConditionExpression: conditions.closed,
          ExpressionAttributeValues: { ":now": now.toISOString() },
          ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        },
      })),
    ]);
  } catch (error) {
    if (!(error instanceof TransactionRefused)) throw error;
    if (error.failed("target")) throw noSuchTarget();
    const open = ELEVATED_PHASES.map((phase) => error.failed(`access:${phase}`)?.current).find(Boolean);
    if (open) throw conflict(`The target has an open ${open.phase} grant (${open.grantId}); revoke or deny it first.`);
    throw error;
  }
}
