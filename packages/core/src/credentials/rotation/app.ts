import { randomUUID } from "node:crypto";
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { rotationSettings, type RotationSettings } from "../../config.ts";
import { commitAudited, type PendingAudit } from "../../audit/chain.ts";
import { keys } from "../../data/keys.ts";
import { TABLE_SCHEMA } from "../../data/table-schema.ts";
import type { TenantTable } from "../../data/tables.ts";
import { logger } from "../../log.ts";
import { stagesOf, type KekRef, type KeyStore } from "../../key-stores/key-store.ts";
import { AppLease, type AppItem } from "./lease.ts";
import { DekRewrap } from "./rewrap.ts";

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
  /** The audit of the request that asked for this rotation: its record commits with the app's new KEK version. */
  audit?: PendingAudit;
};

/** What the audit record of a rotation is drawn from: the version it made current. */
export type KekRotationChange = { appId: string; kekVersion: string };

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
  private readonly lease: AppLease;
  private readonly deks: DekRewrap;
  private retired = 0;

  constructor(
    private readonly table: TenantTable,
    private readonly keyStore: KeyStore,
    private readonly appId: string,
    private readonly settings: RotationSettings,
    private readonly clock: () => number,
    private readonly audit?: PendingAudit,
  ) {
    this.ref = { org: table.org, app: appId };
    this.lease = new AppLease(table, appId, settings.leaseMs, clock);
    this.deks = new DekRewrap(table, keyStore, appId, settings.concurrency, this.lease);
  }

  /** Records the intent first, so a crash right after the promotion still dates it correctly. */
  private async promote(version: string): Promise<string> {
    const at = iso(this.clock());
    await this.lease.setWhileHeld({ UpdateExpression: "SET kekPromotion = :promotion", ExpressionAttributeValues: { ":promotion": { version, at } } });
    await this.keyStore.promote(this.ref, version);
    await this.recordRotation(at, version);
    return at;
  }

  /**
   * The rotation time on the app, which is also its place in the KEK-rotation index, and the
   * version it made current (the app's read model shows both); with the request's audit record,
   * when a request asked for the rotation.
   */
  private async recordRotation(at: string, version: string): Promise<void> {
    const update = {
      UpdateExpression: `SET ${TABLE_SCHEMA.indexes.kekRotation.sortKey} = :at, kekVersion = :version`,
      ExpressionAttributeValues: { ":at": at, ":version": version },
    };
    if (!this.audit) return this.lease.setWhileHeld(update);
    await commitAudited(this.table, this.audit, { appId: this.appId, kekVersion: version } satisfies KekRotationChange, [this.lease.heldItem(update)]);
  }

  async run(force: boolean): Promise<Omit<AppRotationResult, "org" | "app">> {
    const app = await this.lease.acquire();
    if (!app) {
      const { Item } = await this.table.client.send(new GetCommand({ TableName: this.table.name, Key: keys.app(this.table.org, this.appId), ConsistentRead: true }));
      return { outcome: Item && !Item.deletingSince ? "busy" : "gone", rewrapped: 0, retired: 0 };
    }
    try {
      return await this.rotate(app, force);
    } finally {
      await this.lease.release();
    }
  }

  private async rotate(app: AppItem, force: boolean): Promise<Omit<AppRotationResult, "org" | "app">> {
    let stages = stagesOf(await this.keyStore.describe(this.ref));
    await this.lease.renew(); // still ours after reading the store's state: decisions below rest on it
    let rotatedAt: string | undefined = app.kekRotatedAt;
    let outcome: AppRotationOutcome = "current";
    const promotedAt = () => Math.max(Date.parse(rotatedAt ?? app.createdAt), Date.parse(app.kekPromotion?.at ?? 0));

    // 1. A rotation a crash interrupted: its pending version is still labelled, or it was
    //    promoted without being recorded.
    if (stages.pending) {
      if (stages.pending !== stages.current) await this.deks.rewrapAll(stages.pending);
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
    await this.deks.rewrapAll(stages.current);
    if (stages.previous && graceOver) {
      await this.lease.renew();
      await this.keyStore.retire(this.ref, stages.previous);
      this.retired++;
      stages = { ...stages, previous: undefined };
    }

    // 4. A new version when due, unless this run already finished one.
    const dueAt = Date.parse(rotatedAt ?? app.createdAt) + this.settings.rotationDays * 86_400_000;
    if (outcome === "current" && (force || this.clock() >= dueAt)) {
      if (stages.previous) {
        return { outcome: "deferred", kekVersion: stages.current, kekRotatedAt: rotatedAt, rewrapped: this.deks.rewrapped, retired: this.retired, deferredUntil: iso(promotedAt() + this.settings.graceMs) };
      }
      await this.lease.renew();
      const pending = await this.keyStore.createPending(this.ref, randomUUID());
      await this.deks.rewrapAll(pending.version);
      rotatedAt = await this.promote(pending.version);
      outcome = "rotated";
      stages = { current: pending.version, pending: undefined, previous: stages.current };
    }
    return { outcome, kekVersion: stages.current, kekRotatedAt: rotatedAt, rewrapped: this.deks.rewrapped, retired: this.retired };
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
  const rotation = new AppRotation(table, keyStore, appId, settings, clockFrom(options.now), options.audit);
  const result = { org: table.org, app: appId, ...(await rotation.run(options.force ?? false)) };
  logger.info("KEK rotation", { ...result });
  return result;
}
