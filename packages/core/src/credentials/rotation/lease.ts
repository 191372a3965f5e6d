import { randomUUID } from "node:crypto";
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { LIVE_APP } from "../../apps/index.ts";
import { keys } from "../../data/keys.ts";
import type { TenantTable } from "../../data/tables.ts";
import type { TransactionItem } from "../../data/transaction.ts";

export type AppItem = Record<string, any>;

const LEASE = { "#lease": "rotationLease", "#owner": "owner", "#until": "until" };
const HELD = "#lease.#owner = :owner";

type AppUpdate = Omit<ConstructorParameters<typeof UpdateCommand>[0], "TableName" | "Key">;
type HeldUpdate = { UpdateExpression: string; ExpressionAttributeValues: Record<string, unknown> };

/** A rotation job's lease on one app, kept on the app item: it keeps two jobs apart. */
export class AppLease {
  private readonly owner = randomUUID();

  constructor(
    private readonly table: TenantTable,
    private readonly appId: string,
    private readonly leaseMs: number,
    private readonly clock: () => number,
  ) {}

  private update(input: AppUpdate) {
    return this.table.client.send(new UpdateCommand({ TableName: this.table.name, Key: keys.app(this.table.org, this.appId), ...input }));
  }

  /** Takes the app's lease if it is free, expired, or ours. Returns the app item, or undefined. */
  async acquire(): Promise<AppItem | undefined> {
    try {
      const { Attributes } = await this.update({
        UpdateExpression: "SET #lease = :lease",
        ConditionExpression: `${LIVE_APP} AND (attribute_not_exists(#lease) OR #lease.#until < :now OR ${HELD})`,
        ExpressionAttributeNames: LEASE,
        ExpressionAttributeValues: { ":lease": { owner: this.owner, until: this.clock() + this.leaseMs }, ":now": this.clock(), ":owner": this.owner },
        ReturnValues: "ALL_NEW",
      });
      return Attributes;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  /** Extends the lease; fails when another job took the app over, which stops this one. */
  async renew(): Promise<void> {
    await this.update({
      UpdateExpression: "SET #lease.#until = :until",
      ConditionExpression: HELD,
      ExpressionAttributeNames: LEASE,
      ExpressionAttributeValues: { ":until": this.clock() + this.leaseMs, ":owner": this.owner },
    });
  }

  /** Sets attributes of the app item, failing unless this lease still holds it. */
  async setWhileHeld(update: HeldUpdate): Promise<void> {
    await this.update(this.whileHeld(update));
  }

  /** The same, as the item ("app") of a transaction: the app change a rotation commits with its audit record. */
  heldItem(update: HeldUpdate): TransactionItem {
    return { name: "app", Update: { TableName: this.table.name, Key: keys.app(this.table.org, this.appId), ...this.whileHeld(update) } };
  }

  private whileHeld(update: HeldUpdate) {
    return {
      UpdateExpression: update.UpdateExpression,
      ConditionExpression: HELD,
      ExpressionAttributeNames: { "#lease": LEASE["#lease"], "#owner": LEASE["#owner"] },
      ExpressionAttributeValues: { ...update.ExpressionAttributeValues, ":owner": this.owner },
    };
  }

  async release(): Promise<void> {
    try {
      await this.update({
        UpdateExpression: "REMOVE #lease",
        ConditionExpression: HELD,
        ExpressionAttributeNames: { "#lease": LEASE["#lease"], "#owner": LEASE["#owner"] },
        ExpressionAttributeValues: { ":owner": this.owner },
      });
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
}
