import { randomUUID } from "node:crypto";
import { ConditionalCheckFailedException, TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import { GetCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { LIVE_APP } from "../apps.ts";
import { mapWithConcurrency } from "../concurrency.ts";
import { rotationSettings, type RotationSettings } from "../config.ts";
import { appPartition, keys, parseAppKey } from "../data/keys.ts";
import { platformIndexKeys } from "../data/platform-index.ts";
import { TABLE_SCHEMA } from "../data/table-schema.ts";
import { kekRotationIndexTable, tenantTable, type TenantTable } from "../data/tables.ts";
import { logger } from "../log.ts";
import { rewrap, type CredentialAddress } from "./envelope.ts";
import { stagesOf, type Kek, type KekRef, type KeyStore } from "../key-stores/key-store.ts";

/**
 * KEK rotation, per app:
 *   1. finish a rotation a crash interrupted (its pending version is still labelled);
 *   2. re-wrap every DEK onto the current version (stragglers written under the old one);
 *   3. retire the previous version once its grace period is over and no DEK references it;
 *   4. when due (or forced): create a pending version, re-wrap every DEK onto it, promote it.
 * Every step can be repeated: re-wraps are conditional on the item's KEK version and revision,
 * the key store's operations are idempotent, and a lease on the app keeps two jobs apart.
 */

export type AppRotationOutcome =
  /** A new KEK version is current and every DEK is wrapped by it. */
  | "rotated"
  /** An interrupted rotation was finished. */
  | "resumed"
  /** Not due; stragglers were re-wrapped and spent versions retired if possible. */
  | "current"
  /** Due, but the previous version is still in its grace period. */
  | "deferred"
  /** Another job holds the app's lease. */
  | "busy"
  /** The app no longer exists, or is being deleted. */
  | "gone";

export type AppRotationResult = {
  org: string;
  app: string;
  outcome: AppRotationOutcome;
  kekVersion?: string;
  kekRotatedAt?: string;
  rewrapped: number;
  retired: number;
  /** When a deferred rotation can run. */
  deferredUntil?: string;
};

export type RotationOptions = {
  /** The job's clock; time moves on from here while it runs. Defaults to the real clock. */
  now?: Date;
  /** Rotate whether or not the KEK is due. */
  force?: boolean;
  settings?: Partial<RotationSettings>;
};

/** Thrown when some of an app's DEKs could not be re-wrapped; the app's rotation stops there. */
export class RewrapFailed extends Error {
  override readonly name = "RewrapFailed";
}

type AppItem = Record<string, any>;
const LEASE = { "#lease": "rotationLease", "#owner": "owner", "#until": "until" };
/** DEKs re-wrapped per transaction (DynamoDB allows up to 100 actions in one). */
const REWRAP_BATCH = 25;

/** A clock that starts at `now` (or the real time) and runs at real speed. */
function clockFrom(now: Date | undefined): () => number {
  if (!now) return () => Date.now();
  const offset = now.getTime() - Date.now();
  return () => Date.now() + offset;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** One app's rotation run, holding the app's lease from start to end. */
class AppRotation {
  private readonly ref: KekRef;
  private readonly keks = new Map<string, Promise<Kek>>();
  private readonly owner = randomUUID();
  rewrapped = 0;
  retired = 0;

  constructor(
    private readonly table: TenantTable,
    private readonly keyStore: KeyStore,
    readonly appId: string,
    private readonly settings: RotationSettings,
    private readonly clock: () => number,
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

  private update(input: Omit<ConstructorParameters<typeof UpdateCommand>[0], "TableName" | "Key">) {
    return this.table.client.send(new UpdateCommand({ TableName: this.table.name, Key: keys.app(this.table.org, this.appId), ...input }));
  }

  /** Takes the app's lease if it is free, expired, or ours. Returns the app item, or undefined. */
  async acquire(): Promise<AppItem | undefined> {
    try {
      const { Attributes } = await this.update({
        UpdateExpression: "SET #lease = :lease",
        ConditionExpression: `${LIVE_APP} AND (attribute_not_exists(#lease) OR #lease.#until < :now OR #lease.#owner = :owner)`,
        ExpressionAttributeNames: LEASE,
        ExpressionAttributeValues: { ":lease": { owner: this.owner, until: this.clock() + this.settings.leaseMs }, ":now": this.clock(), ":owner": this.owner },
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
      ConditionExpression: "#lease.#owner = :owner",
      ExpressionAttributeNames: LEASE,
      ExpressionAttributeValues: { ":until": this.clock() + this.settings.leaseMs, ":owner": this.owner },
    });
  }

  async release(): Promise<void> {
    try {
      await this.update({
        UpdateExpression: "REMOVE #lease",
        ConditionExpression: "#lease.#owner = :owner",
        ExpressionAttributeNames: { "#lease": LEASE["#lease"], "#owner": LEASE["#owner"] },
        ExpressionAttributeValues: { ":owner": this.owner },
      });
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  /**
   * Moves every DEK not yet wrapped by `target` onto it. Reads are strongly consistent, so a
   * credential written before the pass began is seen by it.
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
      await mapWithConcurrency(batches, this.settings.concurrency, async (batch) => {
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
      if (stale.length) await this.renew();
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

  /** Records the intent first, so a crash right after the promotion still dates it correctly. */
  async promote(version: string): Promise<string> {
    const at = iso(this.clock());
    await this.update({
      UpdateExpression: "SET kekPromotion = :promotion",
      ConditionExpression: "#lease.#owner = :owner",
      ExpressionAttributeNames: { "#lease": LEASE["#lease"], "#owner": LEASE["#owner"] },
      ExpressionAttributeValues: { ":promotion": { version, at }, ":owner": this.owner },
    });
    await this.keyStore.promote(this.ref, version);
    await this.recordRotation(at, version);
    return at;
  }

  /**
   * The rotation time on the app, which is also its place in the KEK-rotation index, and the
   * version it made current (the app's read model shows both).
   */
  async recordRotation(at: string, version: string): Promise<void> {
    await this.update({
      UpdateExpression: `SET ${TABLE_SCHEMA.indexes.kekRotation.sortKey} = :at, kekVersion = :version`,
      ConditionExpression: "#lease.#owner = :owner",
      ExpressionAttributeNames: { "#lease": LEASE["#lease"], "#owner": LEASE["#owner"] },
      ExpressionAttributeValues: { ":at": at, ":version": version, ":owner": this.owner },
    });
  }

  async run(force: boolean): Promise<Omit<AppRotationResult, "org" | "app">> {
    const app = await this.acquire();
    if (!app) {
      const { Item } = await this.table.client.send(new GetCommand({ TableName: this.table.name, Key: keys.app(this.table.org, this.appId), ConsistentRead: true }));
      return { outcome: Item && !Item.deletingSince ? "busy" : "gone", rewrapped: 0, retired: 0 };
    }
    try {
      return await this.rotate(app, force);
    } finally {
      await this.release();
    }
  }

  private async rotate(app: AppItem, force: boolean): Promise<Omit<AppRotationResult, "org" | "app">> {
    let stages = stagesOf(await this.keyStore.describe(this.ref));
    await this.renew(); // still ours after reading the store's state: decisions below rest on it
    let rotatedAt: string | undefined = app.kekRotatedAt;
    let outcome: AppRotationOutcome = "current";
    const promotedAt = () => Math.max(Date.parse(rotatedAt ?? app.createdAt), Date.parse(app.kekPromotion?.at ?? 0));

    // 1. A rotation a crash interrupted: its pending version is still labelled, or it was
    //    promoted without being recorded.
    if (stages.pending) {
      if (stages.pending !== stages.current) await this.rewrapAll(stages.pending);
      rotatedAt = await this.promote(stages.pending);
      outcome = "resumed";
      stages = stagesOf(await this.keyStore.describe(this.ref));
    } else if (app.kekPromotion?.version === stages.current && rotatedAt !== app.kekPromotion.at) {
      await this.recordRotation(app.kekPromotion.at, app.kekPromotion.version);
      rotatedAt = app.kekPromotion.at;
    }

    // 2 and 3. Whether the grace period is over is decided before the sweep: a writer that read
    //    the previous version as current has finished by then, so the sweep sees its DEK.
    const graceOver = this.clock() >= promotedAt() + this.settings.graceMs;
    await this.rewrapAll(stages.current);
    if (stages.previous && graceOver) {
      await this.renew();
      await this.keyStore.retire(this.ref, stages.previous);
      this.retired++;
      stages = { ...stages, previous: undefined };
    }

    // 4. A new version when due, unless this run already finished one.
    const dueAt = Date.parse(rotatedAt ?? app.createdAt) + this.settings.rotationDays * 86_400_000;
    if (outcome === "current" && (force || this.clock() >= dueAt)) {
      if (stages.previous) {
        return { outcome: "deferred", kekVersion: stages.current, kekRotatedAt: rotatedAt, rewrapped: this.rewrapped, retired: this.retired, deferredUntil: iso(promotedAt() + this.settings.graceMs) };
      }
      await this.renew();
      const pending = await this.keyStore.createPending(this.ref, randomUUID());
      await this.rewrapAll(pending.version);
      rotatedAt = await this.promote(pending.version);
      outcome = "rotated";
      stages = { current: pending.version, pending: undefined, previous: stages.current };
    }
    return { outcome, kekVersion: stages.current, kekRotatedAt: rotatedAt, rewrapped: this.rewrapped, retired: this.retired };
  }
}

/** Rotates one app's KEK now if `force`, else only when due; always finishes what a crash left. */
export async function rotateAppKek(
  table: TenantTable,
  keyStore: KeyStore,
  appId: string,
  options: RotationOptions = {},
): Promise<AppRotationResult> {
  const settings = { ...rotationSettings(), ...options.settings };
  const rotation = new AppRotation(table, keyStore, appId, settings, clockFrom(options.now));
  const result = { org: table.org, app: appId, ...(await rotation.run(options.force ?? false)) };
  logger.info("KEK rotation", { ...result });
  return result;
}

export type RotationSummary = {
  due: number;
  rotated: number;
  resumed: number;
  current: number;
  deferred: number;
  busy: number;
  gone: number;
  failed: number;
  rewrapped: number;
  retired: number;
  durationMs: number;
};

/** The apps whose KEK last rotated at or before `cutoff`, from the KEK-rotation index (never a Scan). */
export async function appsDueForRotation(cutoff: string): Promise<{ org: string; app: string }[]> {
  const due: { org: string; app: string }[] = [];
  for (const item of await platformIndexKeys(kekRotationIndexTable(), TABLE_SCHEMA.indexes.kekRotation, cutoff)) {
    const key = parseAppKey(item);
    if (key) due.push(key);
    else logger.warn("KEK-rotation index holds a non-app item", { sk: String(item.SK).slice(0, 40) });
  }
  return due;
}

/**
 * The scheduled job: every app whose KEK is older than the rotation period (every app with
 * `force`). Apps run concurrently; one app's failure is logged and counted and the rest go on.
 */
export async function runKeyRotation(keyStore: KeyStore, options: RotationOptions = {}): Promise<RotationSummary> {
  const started = performance.now();
  const settings = { ...rotationSettings(), ...options.settings };
  const now = options.now ?? new Date();
  const cutoff = options.force ? "9999-12-31T23:59:59.999Z" : iso(now.getTime() - settings.rotationDays * 86_400_000);
  const due = await appsDueForRotation(cutoff);
  logger.info("KEK rotation job started", { due: due.length, force: options.force ?? false, rotationDays: settings.rotationDays });
  const summary: RotationSummary = {
    due: due.length, rotated: 0, resumed: 0, current: 0, deferred: 0, busy: 0, gone: 0, failed: 0, rewrapped: 0, retired: 0, durationMs: 0,
  };
  await mapWithConcurrency(due, settings.concurrency, async ({ org, app }) => {
    try {
      const result = await rotateAppKek(tenantTable(org), keyStore, app, { ...options, now, settings });
      summary[result.outcome]++;
      summary.rewrapped += result.rewrapped;
      summary.retired += result.retired;
    } catch (error) {
      summary.failed++;
      logger.error("KEK rotation failed", { org, app, error: error as Error });
    }
  });
  summary.durationMs = Math.round(performance.now() - started);
  logger.info("KEK rotation job finished", { ...summary });
  return summary;
}
