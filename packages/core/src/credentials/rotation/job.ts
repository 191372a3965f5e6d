import { mapWithConcurrency } from "../../concurrency.ts";
import { rotationSettings } from "../../config.ts";
import { parseAppKey } from "../../data/keys.ts";
import { platformIndexKeys } from "../../data/platform-index.ts";
import { TABLE_SCHEMA } from "../../data/table-schema.ts";
import { kekRotationIndexTable, tenantTable } from "../../data/tables.ts";
import { logger } from "../../log.ts";
import type { KeyStore } from "../../key-stores/key-store.ts";
import { rotateAppKek, type RotationOptions } from "./app.ts";

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
  const cutoff = options.force ? "9999-12-31T23:59:59.999Z" : new Date(now.getTime() - settings.rotationDays * 86_400_000).toISOString();
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
