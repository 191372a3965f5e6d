import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { ItemKey } from "../data/keys.ts";
import type { Table } from "../data/tables.ts";

/**
 * A request-rate limit whose state lives in DynamoDB, so it holds across every Lambda instance.
 *
 * The bucket is one item holding a single number, its theoretical arrival time (`tat`, epoch ms),
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
export type BucketSettings = { key: ItemKey; ratePerSecond: number; burst: number };

/** 0 when admitted; otherwise how long (ms) until the bucket holds a token again. */
export type RetryAfterMs = number;

export const ALLOWANCE_MS = 1_000;
const DEMAND_WINDOW_MS = 500;
const MAX_DRAW = 50;
/** Idle buckets are full once `tat` is in the past; TTL may remove them a little after. */
const EXPIRY_SLACK_SECONDS = 60;

/**
 * A stored `tat`, from an update's answer or a failed condition's item: the document client does
 * not convert the latter, so it may still be a raw `{ N }` attribute value. 0 when there is none.
 */
function tatOf(value: unknown): number {
  const raw = typeof value === "object" && value !== null && "N" in value ? (value as { N: unknown }).N : value;
  const tat = Number(raw ?? 0);
  return Number.isFinite(tat) ? tat : 0;
}

export class RateBucket {
  private tokens = 0;
  /** Tokens drawn but unspent lapse at this time. */
  private until = 0;
  /** Refused until this time, without asking DynamoDB again. */
  private blockedUntil = 0;
  /** The bucket's `tat` as last seen, to choose the right update. */
  private tat = 0;
  /** Requests this instance took from the bucket since its last draw, and when that was. */
  private demand = 0;
  private drawnAt = Date.now();
  private drawing?: Promise<void>;
  /** Requests of this instance waiting for a draw: a demand already known. */
  private waiting = 0;

  constructor(private readonly table: Table, readonly settings: BucketSettings) {}

  /**
   * Takes one token for a request. Synchronous while the local allowance lasts or a refusal is
   * remembered (the hot path allocates nothing); a promise only when it must draw from DynamoDB.
   */
  take(): RetryAfterMs | Promise<RetryAfterMs> {
    this.demand++;
    return this.fromAllowance() ?? this.takeDrawing();
  }

  private fromAllowance(): RetryAfterMs | undefined {
    const at = Date.now();
    if (this.tokens > 0 && at < this.until) {
      this.tokens--;
      return 0;
    }
    return at < this.blockedUntil ? this.blockedUntil - at : undefined;
  }

  /**
   * Concurrent requests of one instance share a draw; each then takes from what it brought. One
   * that finds the draw spent by the others waits for the next: every draw either brings tokens
   * (sized to the demand that piled up meanwhile) or records the refusal that ends the wait.
   */
  private async takeDrawing(): Promise<RetryAfterMs> {
    this.waiting++;
    try {
      for (;;) {
        this.drawing ??= this.draw().finally(() => (this.drawing = undefined));
        await this.drawing;
        const taken = this.fromAllowance();
        if (taken !== undefined) return taken;
      }
    } finally {
      this.waiting--;
    }
  }

  /** Takes up to one draw's worth of tokens from the shared bucket, or records a refusal. */
  private async draw(): Promise<void> {
    const { key, ratePerSecond, burst } = this.settings;
    const interval = 1000 / ratePerSecond;
    const tolerance = burst * interval;
    const start = Date.now();
    const perMs = this.demand / Math.max(start - this.drawnAt, 1);
    // No more than the bucket held when last seen, refilled since: asking for more would only fail first.
    const held = Math.floor((start + tolerance - this.tat) / interval);
    let wanted = Math.max(1, Math.min(Math.max(Math.ceil(perMs * DEMAND_WINDOW_MS), this.waiting), MAX_DRAW, burst, held));
    this.demand = 0;
    this.drawnAt = start;
    for (let attempt = 0; attempt < 3; attempt++) {
      const at = Date.now();
      const cost = wanted * interval;
      const busy = this.tat > at;
      try {
        const { Attributes } = await this.table.client.send(new UpdateCommand({
          TableName: this.table.name,
          Key: key,
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
        this.tat = tatOf(Attributes?.tat);
        this.tokens = wanted;
        // From the answer, not the ask: a slow call must not hand over tokens that have already lapsed.
        this.until = Date.now() + ALLOWANCE_MS;
        return;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        // The failure carries the item as it stood (absent: a full bucket).
        this.tat = tatOf(error.Item?.tat);
        const available = Math.floor((at + tolerance - this.tat) / interval);
        if (available < 1) {
          this.tokens = 0;
          this.blockedUntil = at + Math.max(1, Math.ceil(this.tat - (at + tolerance - interval)));
          return;
        }
        wanted = Math.min(wanted, available);
      }
    }
    // Lost every race to other instances: refuse this round briefly rather than spin.
    this.blockedUntil = Date.now() + Math.ceil(interval);
  }
}
