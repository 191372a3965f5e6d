import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { keys } from "../data/keys.ts";
import type { TenantTable } from "../data/tables.ts";
import { TransactionRefused, writeAtomically, type WriteEntry } from "../data/transact.ts";
import { newId } from "../ids.ts";
import { logger } from "../log.ts";
import { problems } from "../problem.ts";
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
const targetExists = (table: TenantTable, targetId: string): WriteEntry => ({
  ConditionCheck: { TableName: table.name, Key: keys.target(table.org, targetId), ConditionExpression: "attribute_exists(PK)" },
});

export async function createEnrollment(
  table: TenantTable,
  input: { targetId?: string; ttlSeconds: number },
  createdBy: string,
  now = new Date(),
): Promise<Enrollment> {
  const token = newEnrollmentToken();
  // `expiresAt` is the table's TTL attribute (epoch seconds); deletion is lazy, so consumption
  // checks it too.
  const expiresAt = epochSeconds(now) + input.ttlSeconds;
  const put: WriteEntry = {
    Put: {
      TableName: table.name,
      Item: {
        ...keys.enrollment(table.org, hashEnrollmentToken(token)),
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
    await writeAtomically(table, input.targetId ? [targetExists(table, input.targetId), put] : [put]);
  } catch (error) {
    if (input.targetId && error instanceof TransactionRefused && error.conditionFailed(0)) throw problems.notFound("No such target.");
    throw error;
  }
  return { token, expiresAt: new Date(expiresAt * 1000).toISOString(), targetId: input.targetId };
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
  now = new Date(),
): Promise<Appliance> {
  const key = keys.enrollment(table.org, tokenHash);
  const refuse = (reason: string): never => {
    logger.warn("enrollment refused", { reason, token: tokenHashLabel(tokenHash) });
    throw problems.invalidEnrollmentToken();
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
  if (input.publicKey !== undefined && !publicKey) throw problems.badRequest("publicKey is not an acceptable PEM public key.");
  const appliance: Appliance = {
    id: newId(),
    name: input.name,
    targetId: token!.targetId,
    publicKeyFingerprint: publicKey?.fingerprint,
    enrolledAt: now.toISOString(),
  };
  try {
    await writeAtomically(table, [
      {
        Update: {
          TableName: table.name,
          Key: key,
          UpdateExpression: "SET consumedAt = :at, applianceId = :appliance",
          ConditionExpression: "attribute_exists(PK) AND attribute_not_exists(consumedAt) AND expiresAt > :now",
          ExpressionAttributeValues: { ":at": appliance.enrolledAt, ":appliance": appliance.id, ":now": epochSeconds(now) },
        },
      },
      {
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
    const consumed = error.conditionFailed(0);
    if (consumed) return refuse(refusalOf(consumed.item) ?? "token changed concurrently");
    if (error.conditionFailed(2)) return refuse("the token's target was deleted");
    throw error;
  }
  return appliance;
}
