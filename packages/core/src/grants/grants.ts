import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { keys } from "../data/keys.ts";
import { queryPage, type Page } from "../data/page.ts";
import type { TenantTable } from "../data/tables.ts";
import { commitAudited, type PendingAudit } from "../audit/chain.ts";
import { TransactionRefused } from "../data/errors.ts";
import { newId } from "../ids.ts";
import { conflict, forbidden, notFound } from "../errors.ts";
import { OBSERVE_GRANT_ID, PENDING_REQUEST_SECONDS, type ElevatedPhase, type GrantPhase } from "./phases.ts";
import { conditions, grantState, type GrantDecisions, type GrantState } from "./state.ts";

export type Grant = GrantDecisions & {
  id: string;
  phase: ElevatedPhase;
  targetId: string;
  reason: string;
  durationSeconds: number;
  state: GrantState;
  requestedBy: string;
  requestedAt: string;
  approvedBy?: string;
  deniedBy?: string;
  revokedBy?: string;
};

export type ObserveGrant = {
  id: typeof OBSERVE_GRANT_ID;
  phase: Extract<GrantPhase, "Observe">;
  state: Extract<GrantState, "ACTIVE" | "REVOKED">;
  revokedAt?: string;
  revokedBy?: string;
  approvedAt?: string;
  approvedBy?: string;
};

/** Decision fields copied onto the phase-and-target access item, in the same transaction. */
const MIRRORED = ["requestExpiresAt", "approvedAt", "notBefore", "notAfter", "deniedAt", "revokedAt"] as const;

const GRANT_FIELDS = [
  "id", "phase", "targetId", "reason", "durationSeconds", "requestedBy", "requestedAt",
  "approvedBy", "deniedBy", "revokedBy", ...MIRRORED,
] as const;

function toGrant(item: Record<string, any>, now: Date): Grant {
  const grant = Object.fromEntries(GRANT_FIELDS.filter((f) => item[f] !== undefined).map((f) => [f, item[f]]));
  return { ...grant, state: grantState(item as GrantDecisions, now) } as Grant;
}

const noSuchGrant = () => notFound("No such grant.");
const iso = (date: Date) => date.toISOString();
const plusSeconds = (date: Date, seconds: number) => new Date(date.getTime() + seconds * 1000);

export async function requestGrant(
  table: TenantTable,
  requestedBy: string,
  input: { phase: ElevatedPhase; targetId: string; reason: string; durationSeconds: number },
  audit: PendingAudit,
  now = new Date(),
): Promise<Grant> {
  const id = newId();
  const item = {
    id,
    phase: input.phase,
    targetId: input.targetId,
    reason: input.reason,
    durationSeconds: input.durationSeconds,
    requestedBy,
    requestedAt: iso(now),
    requestExpiresAt: iso(plusSeconds(now, PENDING_REQUEST_SECONDS)),
  };
  try {
    await commitAudited(table, audit, item, [
      { name: "target", ConditionCheck: { TableName: table.name, Key: keys.target(table.org, input.targetId), ConditionExpression: "attribute_exists(PK)" } },
      { name: "grant", Put: { TableName: table.name, Item: { ...keys.grant(table.org, id), type: "grant", ...item }, ConditionExpression: "attribute_not_exists(PK)" } },
      {
        name: "access",
        Put: {
          TableName: table.name,
          Item: { ...keys.phaseAccess(table.org, input.phase, input.targetId), type: "access", grantId: id, phase: input.phase, targetId: input.targetId, requestExpiresAt: item.requestExpiresAt },
          ConditionExpression: conditions.closed,
          ExpressionAttributeValues: { ":now": iso(now) },
          ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        },
      },
    ]);
  } catch (error) {
    if (!(error instanceof TransactionRefused)) throw error;
    if (error.failed("target")) throw notFound("No such target.");
    const open = error.failed("access")?.current;
    if (open) throw conflict(`Grant ${open.grantId} for ${input.phase} on this target is still ${grantState(open as GrantDecisions, now)}.`);
    throw error;
  }
  return toGrant(item, now);
}

export type Decision = "approve" | "deny" | "revoke";

/** An org owner's or admin's decision on a grant: an elevated one, or the standing Observe grant. */
export const decide = (table: TenantTable, grantId: string, decision: Decision, by: string, audit: PendingAudit, now = new Date()) =>
  grantId === OBSERVE_GRANT_ID ? decideObserve(table, decision, by, audit, now) : decideGrant(table, grantId, decision, by, audit, now);

/**
 * Approve, deny or revoke an elevated grant. The grant is read first (to find its access item
 * and explain refusals); the write is conditional on the state it was read in, so a concurrent
 * decision makes this one fail rather than both win.
 */
async function decideGrant(table: TenantTable, grantId: string, decision: Decision, by: string, audit: PendingAudit, now: Date): Promise<Grant> {
  const key = keys.grant(table.org, grantId);
  const { Item } = await table.client.send(new GetCommand({ TableName: table.name, Key: key, ConsistentRead: true }));
  if (!Item) throw noSuchGrant();
  refuseUnlessAllowed(Item, decision, by, now);

  const at = iso(now);
  const changes: Record<string, string> =
    decision === "approve" ? { approvedAt: at, approvedBy: by, notBefore: at, notAfter: iso(plusSeconds(now, Item.durationSeconds)) }
    : decision === "deny" ? { deniedAt: at, deniedBy: by }
    : { revokedAt: at, revokedBy: by };
  const condition = decision === "revoke" ? conditions.active : `${conditions.pending} AND requestedBy <> :by`;
  const mirrored = Object.fromEntries(Object.entries(changes).filter(([field]) => (MIRRORED as readonly string[]).includes(field)));
  const decided = toGrant({ ...Item, ...changes }, now);
  try {
    await commitAudited(table, audit, decided, [
      {
        name: "grant",
        Update: {
          TableName: table.name,
          Key: key,
          ...setExpression(changes),
          ConditionExpression: condition,
          ExpressionAttributeValues: { ...values(changes), ":now": at, ...(decision === "revoke" ? {} : { ":by": by }) },
          ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        },
      },
      {
        name: "access",
        Update: {
          TableName: table.name,
          Key: keys.phaseAccess(table.org, Item.phase, Item.targetId),
          ...setExpression(mirrored),
          ConditionExpression: "grantId = :grantId",
          ExpressionAttributeValues: { ...values(mirrored), ":grantId": grantId },
        },
      },
    ]);
  } catch (error) {
    if (!(error instanceof TransactionRefused)) throw error;
    const current = error.failed("grant")?.current;
    if (current) refuseUnlessAllowed(current, decision, by, now);
    throw conflict("The grant changed while this decision was made; read it again.");
  }
  return decided;
}

function refuseUnlessAllowed(item: Record<string, any>, decision: Decision, by: string, now: Date): void {
  const state = grantState(item as GrantDecisions, now);
  if (decision === "revoke") {
    if (state === "PENDING") throw conflict("The grant is PENDING: deny it instead.");
    if (state !== "ACTIVE") throw conflict(`The grant is ${state}; only an ACTIVE grant can be revoked.`);
    return;
  }
  if (decision === "approve" && item.requestedBy === by) throw forbidden("A grant cannot be approved by the principal that requested it.");
  if (state !== "PENDING") throw conflict(`The grant is ${state}; only a PENDING grant can be ${decision === "approve" ? "approved" : "denied"}.`);
}

const setExpression = (changes: Record<string, string>) => ({
  UpdateExpression: `SET ${Object.keys(changes).map((field) => `${field} = :${field}`).join(", ")}`,
});
const values = (changes: Record<string, string>) =>
  Object.fromEntries(Object.entries(changes).map(([field, value]) => [`:${field}`, value]));

function toObserveGrant(item: Record<string, any> | undefined): ObserveGrant {
  const grant: ObserveGrant = { id: OBSERVE_GRANT_ID, phase: "Observe", state: item?.revokedAt ? "REVOKED" : "ACTIVE" };
  for (const field of ["revokedAt", "revokedBy", "approvedAt", "approvedBy"] as const) {
    if (item?.[field] !== undefined) grant[field] = item[field];
  }
  return grant;
}

/**
 * Observe is on until the org revokes it; revoking it (or approving it again) flips one item,
 * `GRANT#observe`, which does not exist until the first change. There is nothing to deny: it is
 * never requested.
 */
async function decideObserve(table: TenantTable, decision: Decision, by: string, audit: PendingAudit, now: Date): Promise<ObserveGrant> {
  if (decision === "deny") throw conflict("Observe is standing access, never requested: revoke it instead.");
  const at = iso(now);
  const revoke = decision === "revoke";
  const item = revoke ? { revokedAt: at, revokedBy: by } : { approvedAt: at, approvedBy: by };
  const decided = toObserveGrant(item);
  try {
    await commitAudited(table, audit, decided, [{
      name: "grant",
      Update: {
        TableName: table.name,
        Key: keys.grant(table.org, OBSERVE_GRANT_ID),
        UpdateExpression: `SET #type = :type, id = :id, phase = :phase, ${revoke
          ? "revokedAt = :at, revokedBy = :by REMOVE approvedAt, approvedBy"
          : "approvedAt = :at, approvedBy = :by REMOVE revokedAt, revokedBy"}`,
        ConditionExpression: revoke ? "attribute_not_exists(revokedAt)" : "attribute_exists(revokedAt)",
        ExpressionAttributeNames: { "#type": "type" },
        ExpressionAttributeValues: { ":type": "grant", ":id": OBSERVE_GRANT_ID, ":phase": "Observe", ":at": at, ":by": by },
      },
    }]);
  } catch (error) {
    if (error instanceof TransactionRefused && error.failed("grant")) {
      throw conflict(revoke ? "Observe access is already REVOKED." : "Observe access is already ACTIVE.");
    }
    throw error;
  }
  return decided;
}

/**
 * Every grant with its state, in key order, in one Query. The standing Observe grant is listed
 * like the others; until its item first exists it is filled in, ACTIVE, on the one page whose
 * key range covers `GRANT#observe`, so it shows exactly once across pages.
 */
export async function listGrants(table: TenantTable, cursorKey: string, page: Page, now = new Date()) {
  const { items, start, last: lastEvaluated, cursorAfter } = await queryPage(table, cursorKey, keys.grantPrefix, page);
  const observe = keys.grant(table.org, OBSERVE_GRANT_ID);
  const rows: { key: Record<string, unknown>; grant: Grant | ObserveGrant }[] = items.map((item) => ({
    key: { PK: item.PK, SK: item.SK },
    grant: item.SK === observe.SK ? toObserveGrant(item) : toGrant(item, now),
  }));
  let last = lastEvaluated;
  const covered = (!start || String(start.SK) < observe.SK) && (!last || observe.SK <= String(last.SK));
  if (covered && !items.some((item) => item.SK === observe.SK)) {
    const at = rows.findIndex((row) => String(row.key.SK) > observe.SK);
    rows.splice(at === -1 ? rows.length : at, 0, { key: observe, grant: toObserveGrant(undefined) });
    if (rows.length > page.limit) {
      rows.pop();
      last = rows.at(-1)!.key;
    }
  }
  return { items: rows.map((row) => row.grant), cursor: cursorAfter(last) };
}
