import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { ItemKey } from "../data/keys.ts";
import type { Table } from "../data/tables.ts";

/**
 * Request rate limits whose state lives in DynamoDB, so they hold across every Lambda instance.
 *
 * Each bucket is one item holding a single number, its theoretical arrival time (`tat`, epoch ms),
 * as in the generic cell rate algorithm: a token bucket of `burst` tokens refilled at `rate` per
 * second, in which taking n tokens moves `tat` forward by n emission intervals, allowed while
 * `tat` stays within `burst` intervals of now. One conditional UpdateItem takes tokens, with no
 * read first and no lost update; an item that does not exist (or that TTL removed once it could
 * no longer matter) is a full bucket.
 *
 * An instance does not spend a DynamoDB call per request: it draws an allowance of several tokens
 * at once and spends it locally for at most ALLOWANCE_MS. The draw is sized to the instance's own
 * recent demand (half a second of it, capped by the bucket's size), so a quiet instance draws one
 * token at a time and strands none, while a busy one calls DynamoDB once per many requests. A
 * refusal is remembered until the bucket holds a token again, so a flood of refused requests
 * costs no DynamoDB call either. Tokens are charged when drawn: over any window, an org is
 * admitted at most its burst plus its rate over the window and ALLOWANCE_MS.
 */
export type Bucket = { key: ItemKey; ratePerSecond: number; burst: number };

/** 0 when admitted; otherwise how long (ms) until the bucket holds a token again. */
export type RetryAfterMs = number;

export const ALLOWANCE_MS = 1_000;
const DEMAND_WINDOW_MS = 500;
const MAX_DRAW = 50;
const MAX_CACHED_BUCKETS = 4_096;
/** Idle buckets are full once `tat` is in the past; TTL may remove them a little after. */
const EXPIRY_SLACK_SECONDS = 60;

type Allowance = {
  tokens: number;
  /** Tokens drawn but unspent lapse at this time. */
  until: number;
  /** Refused until this time, without asking DynamoDB again. */
  blockedUntil: number;
  /** The bucket's `tat` as last seen, to choose the right update. */
  tat: number;
  /** Requests this instance took from the bucket since its last draw, and when that was. */
  demand: number;
  drawnAt: number;
  draw?: Promise<void>;
};

const allowances = new Map<string, Allowance>();

/** Takes one token for a request, drawing from the shared bucket only when the local allowance is spent. */
export async function takeToken(table: Table, bucket: Bucket, now = Date.now): Promise<RetryAfterMs> {
  const id = `${table.name}|${bucket.key.PK}|${bucket.key.SK}`;
  let allowance = allowances.get(id);
  if (!allowance) {
    if (allowances.size >= MAX_CACHED_BUCKETS) allowances.delete(allowances.keys().next().value!);
    allowance = { tokens: 0, until: 0, blockedUntil: 0, tat: 0, demand: 0, drawnAt: now() };
    allowances.set(id, allowance);
  }
  allowance.demand++;
  // Concurrent requests of one instance share a draw; each then takes from what it brought.
  for (let round = 0; round < 3; round++) {
    const at = now();
    if (allowance.tokens > 0 && at < allowance.until) {
      allowance.tokens--;
      return 0;
    }
    if (at < allowance.blockedUntil) return allowance.blockedUntil - at;
    allowance.draw ??= draw(table, bucket, allowance, now).finally(() => (allowance.draw = undefined));
    await allowance.draw;
  }
  // Others of this instance spent every draw first: the bucket is as good as empty.
  return Math.ceil(1000 / bucket.ratePerSecond);
}

/** Takes up to one draw's worth of tokens from the shared bucket into `allowance`, or records a refusal. */
async function draw(table: Table, bucket: Bucket, allowance: Allowance, now: () => number): Promise<void> {
  const interval = 1000 / bucket.ratePerSecond;
  const tolerance = bucket.burst * interval;
  const start = now();
  const perMs = allowance.demand / Math.max(start - allowance.drawnAt, 1);
  // No more than the bucket held when last seen, refilled since: asking for more would only fail first.
  const held = Math.floor((start + tolerance - allowance.tat) / interval);
  let wanted = Math.max(1, Math.min(Math.ceil(perMs * DEMAND_WINDOW_MS), MAX_DRAW, bucket.burst, held));
  allowance.demand = 0;
  allowance.drawnAt = start;
  for (let attempt = 0; attempt < 3; attempt++) {
    const at = now();
    const cost = wanted * interval;
    const busy = allowance.tat > at;
    try {
      const { Attributes } = await table.client.send(new UpdateCommand({
        TableName: table.name,
        Key: bucket.key,
        UpdateExpression: busy ? "SET #tat = #tat + :cost, expiresAt = :expires" : "SET #tat = :fresh, expiresAt = :expires",
        ConditionExpression: busy ? "#tat > :now AND #tat <= :ceiling" : "attribute_not_exists(#tat) OR #tat <= :now",
        ExpressionAttributeNames: { "#tat": "tat" },
        ExpressionAttributeValues: {
          ":now": at,
          ":expires": Math.ceil((at + tolerance) / 1000) + EXPIRY_SLACK_SECONDS,
          ...(busy ? { ":cost": cost, ":ceiling": at + tolerance - cost } : { ":fresh": at + cost }),
        },
        ReturnValues: "UPDATED_NEW",
        ReturnValuesOnConditionCheckFailure: "ALL_OLD",
      }));
      allowance.tat = Number(Attributes?.tat);
      allowance.tokens = wanted;
      allowance.until = at + ALLOWANCE_MS;
      return;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // The failure carries the item as it stood (raw attribute values: the document client does not convert these).
      const tat = Number((error.Item as { tat?: { N?: string } } | undefined)?.tat?.N ?? 0);
      allowance.tat = tat;
      const available = Math.floor((at + tolerance - tat) / interval);
      if (available < 1) {
        allowance.tokens = 0;
        allowance.blockedUntil = at + Math.max(1, Math.ceil(tat - (at + tolerance - interval)));
        return;
      }
      wanted = Math.min(wanted, available);
    }
  }
  // Lost every race to other instances: refuse this round briefly rather than spin.
  allowance.blockedUntil = now() + Math.ceil(interval);
}

/** Forgets every local allowance (tests, and a process that must not carry one across a limits change). */
export const forgetAllowances = (): void => allowances.clear();
