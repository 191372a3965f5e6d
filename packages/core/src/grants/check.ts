import { GetCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { keys, orgPartition } from "../data/keys.ts";
import type { TenantTable } from "../data/tables.ts";
import { isGeneratedId } from "../ids.ts";
import { OBSERVE_GRANT_ID, type ElevatedPhase, type GrantPhase } from "./phases.ts";
import { grantState, type GrantDecisions } from "./state.ts";

export type Admission = { admitted: true; grantId?: string } | { admitted: false; reason: string };

/**
 * Whether the org currently admits platform principals under `phase`: one consistent read in the
 * org's own partition, through its tenant handle. Observe is on unless revoked. An elevated phase
 * needs an ACTIVE grant for some target (routes that act on one target check that target).
 */
export async function vendorAdmission(table: TenantTable, phase: GrantPhase, now = new Date()): Promise<Admission> {
  if (phase === "Observe") {
    const { Item } = await table.client.send(new GetCommand({ TableName: table.name, Key: keys.grant(table.org, OBSERVE_GRANT_ID), ConsistentRead: true }));
    return Item?.revokedAt ? { admitted: false, reason: "the org revoked Observe access" } : { admitted: true };
  }
  // One access item per target of this phase (a handful); more than a page fails closed.
  const { Items = [] } = await table.client.send(new QueryCommand({
    TableName: table.name,
    KeyConditionExpression: "PK = :pk AND begins_with(SK, :prefix)",
    ExpressionAttributeValues: { ":pk": orgPartition(table.org), ":prefix": keys.phaseAccessPrefix(phase) },
    ConsistentRead: true,
  }));
  const active = Items.find((item) => grantState(item as GrantDecisions, now) === "ACTIVE");
  return active ? { admitted: true, grantId: active.grantId } : { admitted: false, reason: `none of this org's ${phase} grants is active` };
}

/** Hosted targets run in the platform's own account: only BYOI deployments need a Deploy grant. */
export const deployNeedsGrant = (target: { kind: "hosted" | "byoi" }): boolean => target.kind === "byoi";

export type GrantCheck =
  | { ok: true; grantId: string; phase: ElevatedPhase; notAfter: string }
  | { ok: false; reason: "no grant" | "grant pending" | "grant denied" | "grant revoked" | "grant expired" };

const REASONS = {
  PENDING: "grant pending",
  DENIED: "grant denied",
  REVOKED: "grant revoked",
  EXPIRED: "grant expired",
} as const;

/**
 * The deploy workflow's gate for BYOI targets (hosted targets need no grant): is there an ACTIVE
 * Deploy grant for `targetId` at `at`? Call it before AssumeRole with no `grantId`, then again
 * right before applying with the `grantId` the first call returned, so a revocation or expiry in
 * between, or a different grant having replaced it, fails the deployment. One consistent read
 * (two only when the pinned grant was replaced), in the org's partition only.
 */
export async function checkDeployGrant(
  table: TenantTable,
  { targetId, at, grantId }: { targetId: string; at: Date; grantId?: string },
): Promise<GrantCheck> {
  if (!isGeneratedId(targetId) || (grantId !== undefined && !isGeneratedId(grantId))) throw new TypeError("checkDeployGrant: malformed id");
  const read = async (key: { PK: string; SK: string }) =>
    (await table.client.send(new GetCommand({ TableName: table.name, Key: key, ConsistentRead: true }))).Item;

  let decisions = await read(keys.phaseAccess(table.org, "Deploy", targetId));
  if (decisions && grantId !== undefined && decisions.grantId !== grantId) {
    decisions = await read(keys.grant(table.org, grantId));
    if (decisions && (decisions.phase !== "Deploy" || decisions.targetId !== targetId)) decisions = undefined;
    if (decisions) decisions = { ...decisions, grantId };
  }
  if (!decisions) return { ok: false, reason: "no grant" };
  const state = grantState(decisions as GrantDecisions, at);
  if (state === "ACTIVE") return { ok: true, grantId: decisions.grantId, phase: "Deploy", notAfter: decisions.notAfter };
  return { ok: false, reason: REASONS[state] };
}
