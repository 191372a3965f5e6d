import { createHash } from "node:crypto";
import type { Principal } from "../auth/principal.ts";
import { BoundedCache } from "../bounded-cache.ts";
import { keys } from "../data/keys.ts";
import { tenantTable } from "../data/tables.ts";
import { RateBucket, type RetryAfterMs } from "../limits/rate.ts";
import { effectiveLimits, type OrgLimits } from "../limits/settings.ts";
import type { Org } from "../orgs/index.ts";
import { problems } from "./problems.ts";

/** An org's buckets in this instance, made for the org record they were built from. */
type OrgBuckets = {
  record: Org;
  limits: OrgLimits;
  org: RateBucket;
  /** Per caller, by principal kind and then sub. */
  callers: Record<Principal["kind"], Map<string, RateBucket>>;
};

const MAX_CACHED_ORGS = 1_024;
const MAX_CACHED_CALLERS = 4_096;
const byOrg = new BoundedCache<string, OrgBuckets>(MAX_CACHED_ORGS);

const sameRates = (a: OrgLimits, b: OrgLimits): boolean =>
  a.requestsPerSecond === b.requestsPerSecond && a.requestBurst === b.requestBurst &&
  a.principalRequestsPerSecond === b.principalRequestsPerSecond && a.principalRequestBurst === b.principalRequestBurst;

/** The org's buckets, kept (with what they know) for as long as its rates stay the same. */
function bucketsOf(org: Org): OrgBuckets {
  let buckets = byOrg.get(org.slug);
  if (buckets?.record === org) return buckets;
  const limits = effectiveLimits(org.limits);
  if (buckets && sameRates(buckets.limits, limits)) {
    buckets.record = org;
    return buckets;
  }
  buckets = {
    record: org,
    limits,
    org: new RateBucket(tenantTable(org.slug), { key: keys.orgRateBucket(org.slug), ratePerSecond: limits.requestsPerSecond, burst: limits.requestBurst }),
    callers: { member: new BoundedCache(MAX_CACHED_CALLERS), platform: new BoundedCache(MAX_CACHED_CALLERS), runtime: new BoundedCache(MAX_CACHED_CALLERS) },
  };
  byOrg.set(org.slug, buckets);
  return buckets;
}

/** The caller's bucket, keyed by a hash of its kind and sub (a sub may hold any character). */
function callerBucket(buckets: OrgBuckets, principal: Principal): RateBucket {
  const callers = buckets.callers[principal.kind];
  let bucket = callers.get(principal.sub);
  if (!bucket) {
    const { slug } = buckets.record;
    const hash = createHash("sha256").update(`${principal.kind}:${principal.sub}`).digest("hex").slice(0, 32);
    const { principalRequestsPerSecond, principalRequestBurst } = buckets.limits;
    bucket = new RateBucket(tenantTable(slug), { key: keys.principalRateBucket(slug, hash), ratePerSecond: principalRequestsPerSecond, burst: principalRequestBurst });
    callers.set(principal.sub, bucket);
  }
  return bucket;
}

function refuse(whose: "caller" | "organization", bucket: RateBucket, waitMs: RetryAfterMs): never {
  const { ratePerSecond: perSecond, burst } = bucket.settings;
  throw problems.rateLimited(whose, { perSecond, burst }, Math.ceil(waitMs / 1000));
}

/**
 * Takes a token from the caller's bucket, then (when given) the org's: nothing to wait for when
 * both admit from the local allowance.
 */
function settle(bucket: RateBucket, orgBucket?: RateBucket): void | Promise<void> {
  const whose = orgBucket ? "caller" : "organization";
  const taken = bucket.take();
  if (taken === 0) return orgBucket && settle(orgBucket);
  if (typeof taken === "number") refuse(whose, bucket, taken);
  return taken.then((waitMs) => (waitMs === 0 ? orgBucket && settle(orgBucket) : refuse(whose, bucket, waitMs)));
}

/**
 * Charges one request of a verified caller on an org host to the caller's bucket and then to the
 * org's, after tenant and auth and before any data access; refuses with 429 (Retry-After) when
 * either is empty. Returns a promise only when a bucket must draw from DynamoDB. Requests without
 * a verified caller are not charged (anyone could otherwise spend an org's rate): API Gateway's
 * stage throttling is the outer limit for those.
 */
export function chargeRequest(org: Org, principal: Principal): void | Promise<void> {
  const buckets = bucketsOf(org);
  return settle(callerBucket(buckets, principal), buckets.org);
}
