import { ConditionalCheckFailedException, TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import { GetCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { mapWithConcurrency } from "../../concurrency.ts";
import { appPartition, keys } from "../../data/keys.ts";
import type { TenantTable } from "../../data/tables.ts";
import { logger } from "../../log.ts";
import { rewrap, type CredentialAddress } from "../envelope.ts";
import { RewrapFailed } from "../errors.ts";
import type { Kek, KekRef, KeyStore } from "../../key-stores/key-store.ts";
import type { AppItem, AppLease } from "./lease.ts";

/** DEKs re-wrapped per transaction (DynamoDB allows up to 100 actions in one). */
const REWRAP_BATCH = 25;

/**
 * Moves one app's DEKs from KEK version to KEK version. Every write is conditional on the KEK
 * version and revision the item was read with, so a pass can be repeated or race a writer.
 */
export class DekRewrap {
  private readonly ref: KekRef;
  private readonly keks = new Map<string, Promise<Kek>>();
  rewrapped = 0;

  constructor(
    private readonly table: TenantTable,
    private readonly keyStore: KeyStore,
    private readonly appId: string,
    private readonly concurrency: number,
    private readonly lease: AppLease,
  ) {
    this.ref = { org: table.org, app: appId };
  }

  private kek(version: string): Promise<Kek> {
    let kek = this.keks.get(version);
    if (!kek) {
      kek = this.keyStore.version(this.ref, version);
      kek.catch(() => this.keks.delete(version));
      this.keks.set(version, kek);
    }
    return kek;
  }

  /**
   * Moves every DEK not yet wrapped by `target` onto it, renewing the lease page by page. Reads
   * are strongly consistent, so a credential written before the pass began is seen by it.
   */
  async rewrapAll(target: string): Promise<void> {
    const to = await this.kek(target);
    const failures: string[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.table.client.send(new QueryCommand({
        TableName: this.table.name,
        KeyConditionExpression: "PK = :pk AND begins_with(SK, :prefix)",
        ExpressionAttributeValues: { ":pk": appPartition(this.table.org, this.appId), ":prefix": keys.credentialPrefix },
        ProjectionExpression: "PK, SK, #name, #scope, #sub, #version, kekVersion, wrappedDek",
        ExpressionAttributeNames: { "#name": "name", "#scope": "scope", "#sub": "sub", "#version": "version" },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }));
      const stale = (page.Items ?? []).filter((item) => item.kekVersion !== target);
      const batches = Array.from({ length: Math.ceil(stale.length / REWRAP_BATCH) }, (_, i) => stale.slice(i * REWRAP_BATCH, (i + 1) * REWRAP_BATCH));
      await mapWithConcurrency(batches, this.concurrency, async (batch) => {
        if (await this.rewrapBatch(batch, to)) return;
        // Something in the batch changed (or failed): take its items one at a time.
        for (const item of batch) {
          try {
            if (await this.rewrapOne(item, to)) this.rewrapped++;
          } catch (error) {
            failures.push(`${item.SK}: ${(error as Error).name}`);
          }
        }
      });
      if (stale.length) await this.lease.renew();
      start = page.LastEvaluatedKey;
    } while (start);
    if (failures.length) {
      logger.error("DEKs could not be re-wrapped", { app: this.appId, count: failures.length, items: failures.slice(0, 20) });
      throw new RewrapFailed(`${failures.length} DEK(s) of app ${this.appId} could not be re-wrapped`);
    }
  }

  private rewrapUpdate(item: AppItem, moved: { wrappedDek: Buffer; kekVersion: string }) {
    return {
      TableName: this.table.name,
      Key: { PK: item.PK, SK: item.SK },
      UpdateExpression: "SET wrappedDek = :wrapped, kekVersion = :to",
      ConditionExpression: "kekVersion = :from AND #version = :revision",
      ExpressionAttributeNames: { "#version": "version" },
      ExpressionAttributeValues: { ":wrapped": moved.wrappedDek, ":to": moved.kekVersion, ":from": item.kekVersion, ":revision": item.version },
    };
  }

  private addressOf(item: AppItem): CredentialAddress {
    return {
      org: this.table.org,
      app: this.appId,
      scope: item.scope === "user" ? { kind: "user", sub: item.sub } : { kind: "system" },
      name: item.name,
    };
  }

  private async moved(item: AppItem, to: Kek) {
    return rewrap({ wrappedDek: Buffer.from(item.wrappedDek), kekVersion: item.kekVersion }, this.addressOf(item), await this.kek(item.kekVersion), to);
  }

  /**
   * Re-wraps a batch in one transaction: each update still conditional on the item's KEK version
   * and revision. False when the transaction was cancelled or a DEK could not be unwrapped; the
   * caller then goes item by item.
   */
  private async rewrapBatch(batch: AppItem[], to: Kek): Promise<boolean> {
    if (batch.length < 2) return false;
    try {
      const updates = await Promise.all(batch.map(async (item) => ({ Update: this.rewrapUpdate(item, await this.moved(item, to)) })));
      await this.table.client.send(new TransactWriteCommand({ TransactItems: updates }));
      this.rewrapped += batch.length;
      return true;
    } catch (error) {
      if (error instanceof TransactionCanceledException || (error as Error).name === "CredentialIntegrityError" || (error as Error).name === "KekNotFound") return false;
      throw error;
    }
  }

  /** Re-wraps one DEK, conditional on the KEK version and revision it was read with. False if there was nothing to do. */
  private async rewrapOne(item: AppItem, to: Kek): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.table.client.send(new UpdateCommand(this.rewrapUpdate(item, await this.moved(item, to))));
        return true;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException) || attempt >= 5) throw error;
        // Replaced, deleted or re-wrapped meanwhile: look again.
        const { Item } = await this.table.client.send(new GetCommand({ TableName: this.table.name, Key: { PK: item.PK, SK: item.SK }, ConsistentRead: true }));
        if (!Item || Item.kekVersion === to.version) return false;
        item = Item;
      }
    }
  }
}
