import { createHash } from "node:crypto";
import type { Principal } from "../auth/principal.ts";
import { keys } from "../data/keys.ts";
import { tenantTable } from "../data/tables.ts";
import { takeToken } from "../limits/rate.ts";
import { effectiveLimits } from "../limits/settings.ts";
import type { Org } from "../orgs.ts";
import { problems } from "../problem.ts";

/** Principal hashes by kind and sub, so a repeated caller costs no hashing. */
const principalHashes = new Map<string, string>();
const MAX_CACHED_PRINCIPALS = 4_096;

function principalHash(principal: Principal): string {
  const id = `${principal.kind}:${principal.sub}`;
  let hash = principalHashes.get(id);
  if (!hash) {
    hash = createHash("sha256").update(id).digest("hex").slice(0, 32);
    if (principalHashes.size >= MAX_CACHED_PRINCIPALS) principalHashes.delete(principalHashes.keys().next().value!);
    principalHashes.set(id, hash);
  }
  return hash;
}

/**
 * Charges one request of a verified caller on an org host to the caller's bucket and then to the
 * org's, after tenant and auth and before any data access; refuses with 429 and Retry-After when
 * either is empty. Requests without a verified caller are not charged: anyone could otherwise
 * spend an org's rate. API Gateway's stage throttling is the outer limit for those.
 */
export async function chargeRequest(org: Org, principal: Principal): Promise<void> {
  const limits = effectiveLimits(org.limits);
  const table = tenantTable(org.slug);
  const caller = { perSecond: limits.principalRequestsPerSecond, burst: limits.principalRequestBurst };
  let waitMs = await takeToken(table, {
    key: keys.principalRateBucket(org.slug, principalHash(principal)), ratePerSecond: caller.perSecond, burst: caller.burst,
  });
  if (waitMs > 0) throw problems.rateLimited("caller", caller, Math.ceil(waitMs / 1000));
  const shared = { perSecond: limits.requestsPerSecond, burst: limits.requestBurst };
  waitMs = await takeToken(table, { key: keys.orgRateBucket(org.slug), ratePerSecond: shared.perSecond, burst: shared.burst });
  if (waitMs > 0) throw problems.rateLimited("organization", shared, Math.ceil(waitMs / 1000));
}
