import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { keys } from "../data/keys.ts";
import type { TenantTable } from "../data/tables.ts";
import { commitAudited, type PendingAudit } from "../audit/chain.ts";
import { TransactionRefused } from "../data/errors.ts";
import type { TransactionItem } from "../data/transaction.ts";
import { invalidRequest, notFound } from "../errors.ts";
import { newId } from "../ids.ts";
import { logger } from "../log.ts";
import { invalidEnrollmentToken } from "./errors.ts";
import { parseAppliancePublicKey } from "./public-key.ts";
import { hashEnrollmentToken, newEnrollmentToken, tokenHashLabel } from "./token.ts";

/** Returned once: only the token's hash is stored. */
export type Enrollment = { token: string; expiresAt: string; targetId?: string };

export type Appliance = {
  id: string;
  name: string;
  targetId?: string;
  publicKeyFingerprint?: string;
  enrolledAt: string;
};

const epochSeconds = (date: Date) => Math.floor(date.getTime() / 1000);
const iso = (epochSeconds: number) => new Date(epochSeconds * 1000).toISOString();

/**
 * What the audit record of an enrollment's change is drawn from: the token only by its hash's
 * label (enough to tie an enrollment to its issue), and the appliance once one enrolled.
 */
export type EnrollmentChange = { enrollment: string; expiresAt?: string; targetId?: string } & Partial<Appliance>;
const targetExists = (table: TenantTable, targetId: string): TransactionItem => ({
  name: "target",
  ConditionCheck: { TableName: table.name, Key: keys.target(table.org, targetId), ConditionExpression: "attribute_exists(PK)" },
});

export async function createEnrollment(
  table: TenantTable,
  input: { targetId?: string; ttlSeconds: number },
  createdBy: string,
  audit: PendingAudit,
  now = new Date(),
): Promise<Enrollment> {
  const token = newEnrollmentToken();
  // `expiresAt` is the table's TTL attribute (epoch seconds); deletion is lazy, so consumption
  // checks it too.
  const expiresAt = epochSeconds(now) + input.ttlSeconds;
  const tokenHash = hashEnrollmentToken(token);
  const put: TransactionItem = {
    name: "enrollment",
    Put: {
      TableName: table.name,
      Item: {
        ...keys.enrollment(table.org, tokenHash),
        type: "enrollment",
        targetId: input.targetId,
        createdBy,
        createdAt: now.toISOString(),
        expiresAt,
      },
      ConditionExpression: "attribute_not_exists(PK)",
    },
  };
  try {
    // The record names the token by its hash's label, never the token.
    const change: EnrollmentChange = { enrollment: tokenHashLabel(tokenHash), expiresAt: iso(expiresAt), targetId: input.targetId };
    await commitAudited(table, audit, change, input.targetId ? [targetExists(table, input.targetId), put] : [put]);
  } catch (error) {
    if (error instanceof TransactionRefused && error.failed("target")) throw notFound("No such target.");
    throw error;
  }
  return { token, expiresAt: iso(expiresAt), targetId: input.targetId };
}

/**
 * Consumes an enrollment token and binds the appliance to this org (and the token's target) in
 * one transaction, conditional on the token being unused and unexpired: of any number of
 * concurrent presentations exactly one succeeds. Every refusal is the same 401 to the caller; the
 * log says why. A token issued by another org is simply not in this org's partition.
 */
export async function enroll(
  table: TenantTable,
  tokenHash: string,
  input: { name: string; publicKey?: string },
  audit: PendingAudit,
  now = new Date(),
): Promise<Appliance> {
  const key = keys.enrollment(table.org, tokenHash);
  const refuse = (reason: string): never => {
    logger.warn("enrollment refused", { reason, token: tokenHashLabel(tokenHash) });
    throw invalidEnrollmentToken();
  };
  const refusalOf = (token: Record<string, any> | undefined) =>
    !token ? "unknown token (not issued by this org, or purged)"
    : token.consumedAt ? "replayed: token already used"
    : token.expiresAt <= epochSeconds(now) ? "expired"
    : undefined;

  const { Item: token } = await table.client.send(new GetCommand({ TableName: table.name, Key: key, ConsistentRead: true }));
  const early = refusalOf(token);
  if (early) return refuse(early);

  const publicKey = input.publicKey === undefined ? undefined : parseAppliancePublicKey(input.publicKey);
  if (input.publicKey !== undefined && !publicKey) throw invalidRequest("publicKey is not an acceptable PEM public key.");
  const appliance: Appliance = {
    id: newId(),
    name: input.name,
    targetId: token!.targetId,
    publicKeyFingerprint: publicKey?.fingerprint,
    enrolledAt: now.toISOString(),
  };
  try {
    const change: EnrollmentChange = { enrollment: tokenHashLabel(tokenHash), ...appliance };
    await commitAudited(table, audit, change, [
      {
        name: "enrollment",
        Update: {
          TableName: table.name,
          Key: key,
          UpdateExpression: "SET consumedAt = :at, applianceId = :appliance",
          ConditionExpression: "attribute_exists(PK) AND attribute_not_exists(consumedAt) AND expiresAt > :now",
          ExpressionAttributeValues: { ":at": appliance.enrolledAt, ":appliance": appliance.id, ":now": epochSeconds(now) },
          ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        },
      },
      {
        name: "appliance",
        Put: {
          TableName: table.name,
          Item: { ...keys.appliance(table.org, appliance.id), type: "appliance", ...appliance, publicKey: publicKey?.pem },
          ConditionExpression: "attribute_not_exists(PK)",
        },
      },
      ...(appliance.targetId ? [targetExists(table, appliance.targetId)] : []),
    ]);
  } catch (error) {
    if (!(error instanceof TransactionRefused)) throw error;
    const consumed = error.failed("enrollment");
    if (consumed) return refuse(refusalOf(consumed.current) ?? "token changed concurrently");
    if (error.failed("target")) return refuse("the token's target was deleted");
    throw error;
  }
  return appliance;
}
