import { TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, PutCommand, TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { conditions, grantState, type GrantDecisions } from "../packages/core/src/grants/state.ts";
import { localClient } from "../packages/local/src/dynamodb.ts";
import { startTestApi, type TestApi } from "./support/api.ts";

/**
 * The state a grant shows (`grantState`, computed in code) and the conditions its transitions
 * write under (evaluated by DynamoDB) are two statements of one rule. This checks they agree on
 * every reachable history and clock reading, against DynamoDB Local itself.
 */
let api: TestApi;
let db: DynamoDBDocumentClient;
beforeAll(async () => {
  api = await startTestApi();
  db = DynamoDBDocumentClient.from(localClient(api.offline.dynamoEndpoint));
});
afterAll(() => api?.stop());

const HOUR = 3600_000;
const T0 = Date.parse("2030-01-01T00:00:00.000Z");
const iso = (ms: number) => new Date(ms).toISOString();

/** Histories the service can produce: requested, then maybe approved (then maybe revoked) or denied. */
const history = fc.record({
  decidedAfter: fc.integer({ min: 0, max: 30 * HOUR }),
  decision: fc.constantFrom("none", "approve", "deny", "approve+revoke"),
  durationSeconds: fc.integer({ min: 300, max: 24 * 3600 }),
  revokedAfter: fc.integer({ min: 0, max: 24 * 3600_000 }),
  // Any time, or a millisecond around an instant where the state changes (where bugs hide).
  clock: fc.oneof(
    fc.integer({ min: -HOUR, max: 60 * HOUR }),
    fc.tuple(fc.constantFrom("decided", "notAfter", "requestExpires"), fc.integer({ min: -1, max: 1 })),
  ),
}).map(({ decidedAfter, decision, durationSeconds, revokedAfter, clock }) => {
  const grant: GrantDecisions = { requestExpiresAt: iso(T0 + 24 * HOUR) };
  const decidedAt = T0 + Math.min(decidedAfter, 24 * HOUR - 1);
  if (decision.startsWith("approve")) {
    Object.assign(grant, { approvedAt: iso(decidedAt), notBefore: iso(decidedAt), notAfter: iso(decidedAt + durationSeconds * 1000) });
    if (decision === "approve+revoke") grant.revokedAt = iso(decidedAt + Math.min(revokedAfter, durationSeconds * 1000 - 1));
  }
  if (decision === "deny") grant.deniedAt = iso(decidedAt);
  const anchors = { decided: decidedAt, notAfter: decidedAt + durationSeconds * 1000, requestExpires: T0 + 24 * HOUR };
  const now = typeof clock === "number" ? T0 + clock : anchors[clock[0]] + clock[1];
  return { grant, now: new Date(now) };
});

async function holds(key: { PK: string; SK: string }, condition: string, now: Date): Promise<boolean> {
  try {
    await db.send(new TransactWriteCommand({
      TransactItems: [{ ConditionCheck: { TableName: api.offline.config.tableName, Key: key, ConditionExpression: condition, ExpressionAttributeValues: { ":now": now.toISOString() } } }],
    }));
    return true;
  } catch (error) {
    if (error instanceof TransactionCanceledException) return false;
    throw error;
  }
}

describe("grant state and write conditions agree", () => {
  it("on every reachable history, at any time", async () => {
    let n = 0;
    await fc.assert(fc.asyncProperty(history, async ({ grant, now }) => {
      const key = { PK: "ORG#prop", SK: `GRANT#${++n}` };
      await db.send(new PutCommand({ TableName: api.offline.config.tableName, Item: { ...key, ...grant } }));
      const state = grantState(grant, now);
      expect(await holds(key, conditions.pending, now)).toBe(state === "PENDING" && !grant.approvedAt);
      expect(await holds(key, conditions.active, now)).toBe(state === "ACTIVE");
      expect(await holds(key, conditions.closed, now)).toBe(["EXPIRED", "REVOKED", "DENIED"].includes(state));
    }), { numRuns: 120 });
  });

  it("with no grant at all: closed, neither pending nor active", async () => {
    const key = { PK: "ORG#prop", SK: "GRANT#absent" };
    const now = new Date(T0);
    expect(await holds(key, conditions.pending, now)).toBe(false);
    expect(await holds(key, conditions.active, now)).toBe(false);
    expect(await holds(key, conditions.closed, now)).toBe(true);
  });
});
