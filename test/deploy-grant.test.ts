import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tenantTable } from "../packages/core/src/data/tables.ts";
import { checkDeployGrant, deployNeedsGrant } from "../packages/core/src/grants/check.ts";
import { decide as decideGrant, requestGrant } from "../packages/core/src/grants/grants.ts";
import type { ElevatedPhase } from "../packages/core/src/grants/phases.ts";
import { startTestApi, type TestApi } from "./support/api.ts";
import { newTarget, systemAudit } from "./support/samples.ts";

/**
 * `checkDeployGrant` is the deploy workflow's gate (wired at merge): every case against the
 * real table, each with its own target so no case sees another's grant.
 */
let api: TestApi;
beforeAll(async () => (api = await startTestApi()));
afterAll(() => api?.stop());

const minute = 60_000;
const t0 = new Date();
const at = (ms: number) => new Date(t0.getTime() + ms);
const acme = () => tenantTable("acme");

async function grantOn(org: string, targetId: string, phase: ElevatedPhase = "Deploy", durationSeconds = 1800) {
  return requestGrant(tenantTable(org), "ops-1", { phase, targetId, reason: "release", durationSeconds }, systemAudit("grants.request"), t0);
}

describe("checkDeployGrant", () => {
  it("no grant at all", async () => {
    const targetId = await newTarget(api, "acme");
    expect(await checkDeployGrant(acme(), { targetId, at: t0 })).toEqual({ ok: false, reason: "no grant" });
  });

  it("an approved grant, inside its window", async () => {
    const targetId = await newTarget(api, "acme");
    const grant = await grantOn("acme", targetId);
    await decideGrant(acme(), grant.id, "approve", "olivia", systemAudit("grants.approve"), at(minute));
    expect(await checkDeployGrant(acme(), { targetId, at: at(2 * minute) })).toEqual({
      ok: true, grantId: grant.id, phase: "Deploy", notAfter: at(minute + 1800_000).toISOString(),
    });
    expect(await checkDeployGrant(acme(), { targetId, at: at(2 * minute), grantId: grant.id })).toMatchObject({ ok: true, grantId: grant.id });
  });

  it("pending, then denied", async () => {
    const targetId = await newTarget(api, "acme");
    const grant = await grantOn("acme", targetId);
    expect(await checkDeployGrant(acme(), { targetId, at: at(minute) })).toEqual({ ok: false, reason: "grant pending" });
    await decideGrant(acme(), grant.id, "deny", "olivia", systemAudit("grants.deny"), at(minute));
    expect(await checkDeployGrant(acme(), { targetId, at: at(2 * minute) })).toEqual({ ok: false, reason: "grant denied" });
  });

  it("revoked between the check before AssumeRole and the one before applying", async () => {
    const targetId = await newTarget(api, "acme");
    const grant = await grantOn("acme", targetId);
    await decideGrant(acme(), grant.id, "approve", "olivia", systemAudit("grants.approve"), at(minute));
    const before = await checkDeployGrant(acme(), { targetId, at: at(2 * minute) });
    expect(before.ok).toBe(true);
    await decideGrant(acme(), grant.id, "revoke", "olivia", systemAudit("grants.revoke"), at(3 * minute));
    expect(await checkDeployGrant(acme(), { targetId, at: at(4 * minute), grantId: grant.id })).toEqual({ ok: false, reason: "grant revoked" });
    expect(await checkDeployGrant(acme(), { targetId, at: at(4 * minute) })).toEqual({ ok: false, reason: "grant revoked" });
  });

  it("expired: at notAfter exactly, and later", async () => {
    const targetId = await newTarget(api, "acme");
    const grant = await grantOn("acme", targetId, "Deploy", 600);
    await decideGrant(acme(), grant.id, "approve", "olivia", systemAudit("grants.approve"), t0);
    expect((await checkDeployGrant(acme(), { targetId, at: at(600_000 - 1) })).ok).toBe(true);
    expect(await checkDeployGrant(acme(), { targetId, at: at(600_000) })).toEqual({ ok: false, reason: "grant expired" });
    expect(await checkDeployGrant(acme(), { targetId, at: at(60 * minute), grantId: grant.id })).toEqual({ ok: false, reason: "grant expired" });
  });

  it("a request nobody decided lapses to expired", async () => {
    const targetId = await newTarget(api, "acme");
    await grantOn("acme", targetId);
    expect(await checkDeployGrant(acme(), { targetId, at: at(25 * 60 * minute) })).toEqual({ ok: false, reason: "grant expired" });
  });

  it("another target's grant does not count, nor another phase's on this target", async () => {
    const targetId = await newTarget(api, "acme");
    const other = await newTarget(api, "acme");
    const onOther = await grantOn("acme", other);
    await decideGrant(acme(), onOther.id, "approve", "olivia", systemAudit("grants.approve"), t0);
    const operate = await grantOn("acme", targetId, "Operate");
    await decideGrant(acme(), operate.id, "approve", "olivia", systemAudit("grants.approve"), t0);
    expect(await checkDeployGrant(acme(), { targetId, at: at(minute) })).toEqual({ ok: false, reason: "no grant" });
    // Pinning another target's (or phase's) grant id does not borrow it either.
    expect(await checkDeployGrant(acme(), { targetId, at: at(minute), grantId: onOther.id })).toEqual({ ok: false, reason: "no grant" });
  });

  it("another org's grant does not count, even for the same target id", async () => {
    const targetId = await newTarget(api, "globex");
    const grant = await grantOn("globex", targetId);
    await decideGrant(tenantTable("globex"), grant.id, "approve", "gina", systemAudit("grants.approve"), t0);
    expect((await checkDeployGrant(tenantTable("globex"), { targetId, at: at(minute) })).ok).toBe(true);
    expect(await checkDeployGrant(acme(), { targetId, at: at(minute) })).toEqual({ ok: false, reason: "no grant" });
    expect(await checkDeployGrant(acme(), { targetId, at: at(minute), grantId: grant.id })).toEqual({ ok: false, reason: "no grant" });
  });

  it("a pinned grant replaced by a newer one fails with the pinned grant's own reason", async () => {
    const targetId = await newTarget(api, "acme");
    const first = await grantOn("acme", targetId, "Deploy", 600);
    await decideGrant(acme(), first.id, "approve", "olivia", systemAudit("grants.approve"), t0);
    await decideGrant(acme(), first.id, "revoke", "olivia", systemAudit("grants.revoke"), at(minute));
    const second = await requestGrant(acme(), "ops-1", { phase: "Deploy", targetId, reason: "retry", durationSeconds: 600 }, systemAudit("grants.request"), at(2 * minute));
    await decideGrant(acme(), second.id, "approve", "olivia", systemAudit("grants.approve"), at(2 * minute));
    expect(await checkDeployGrant(acme(), { targetId, at: at(3 * minute) })).toMatchObject({ ok: true, grantId: second.id });
    expect(await checkDeployGrant(acme(), { targetId, at: at(3 * minute), grantId: first.id })).toEqual({ ok: false, reason: "grant revoked" });
  });

  it("is needed for BYOI targets only", () => {
    expect(deployNeedsGrant({ kind: "byoi" })).toBe(true);
    expect(deployNeedsGrant({ kind: "hosted" })).toBe(false);
  });

  it("refuses malformed ids instead of building keys from them", async () => {
    await expect(checkDeployGrant(acme(), { targetId: "x#y", at: t0 })).rejects.toThrow(TypeError);
    await expect(checkDeployGrant(acme(), { targetId: "a".repeat(26), at: t0, grantId: "ORG#globex" })).rejects.toThrow(TypeError);
  });
});
