import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { commitAudited, type PendingAudit } from "../audit/chain.ts";
import { BoundedCache } from "../bounded-cache.ts";
import { keys } from "../data/keys.ts";
import { orgRegistryTable, platformTable } from "../data/tables.ts";
import { TransactionRefused } from "../data/errors.ts";
import { effectiveLimits, type OrgLimits } from "../limits/settings.ts";
import { conflict, notFound } from "../errors.ts";

export type OrgStatus = "active" | "suspended";
/** `limits` holds only what a platform admin set for this org; `effectiveLimits` adds the defaults. */
export type Org = { slug: string; name: string; status: OrgStatus; createdAt: string; updatedAt: string; limits?: Partial<OrgLimits> };

/** What the API shows of an org: every limit that holds for it, defaults included. */
export type OrgView = Omit<Org, "limits"> & { limits: OrgLimits };

const toOrg = (item: Record<string, any>): Org => ({
  slug: item.slug, name: item.name, status: item.status, createdAt: item.createdAt, updatedAt: item.updatedAt,
  ...(item.limits && Object.keys(item.limits).length > 0 && { limits: item.limits }),
});

export const orgView = ({ limits, ...org }: Org): OrgView => ({ ...org, limits: effectiveLimits(limits) });

/**
 * Tenant resolution reads the registry on every request, so answers (including "unknown") are
 * kept briefly. Suspension therefore reaches other warm instances within CACHE_MS; this process
 * forgets an org as soon as it changes it.
 */
const CACHE_MS = 10_000;
const MAX_CACHED = 1024;
const cache = new BoundedCache<string, { org: Org | undefined; until: number }>(MAX_CACHED);

export async function lookupOrg(slug: string, now = Date.now()): Promise<Org | undefined> {
  const hit = cache.get(slug);
  if (hit && hit.until > now) return hit.org;
  const org = await readOrg(slug);
  cache.set(slug, { org, until: now + CACHE_MS });
  return org;
}

/**
 * The limits that hold for `org`, as tenant resolution last saw its record (so no extra read on
 * a request's path). An org without a record has the defaults.
 */
export const limitsOf = async (org: string): Promise<OrgLimits> => effectiveLimits((await lookupOrg(org))?.limits);

export const forgetOrg = (slug: string): void => void cache.delete(slug);

export async function readOrg(slug: string): Promise<Org | undefined> {
  const { client, name } = platformTable();
  const { Item } = await client.send(new GetCommand({ TableName: name, Key: keys.orgRecord(slug) }));
  return Item ? toOrg(Item) : undefined;
}

/** Registers an org; its record and the change's audit record (in the new org's own log) commit together. */
export async function createOrg(input: { slug: string; name: string }, audit: PendingAudit, now = new Date()): Promise<Org> {
  const table = orgRegistryTable(input.slug);
  const at = now.toISOString();
  const org: Org = { slug: input.slug, name: input.name, status: "active", createdAt: at, updatedAt: at };
  try {
    await commitAudited(table, audit, org, [{
      name: "org",
      Put: { TableName: table.name, Item: { ...keys.orgRecord(org.slug), ...org }, ConditionExpression: "attribute_not_exists(PK)" },
    }]);
  } catch (error) {
    if (error instanceof TransactionRefused && error.failed("org")) throw conflict(`The org slug "${org.slug}" is taken.`);
    throw error;
  }
  forgetOrg(org.slug);
  return org;
}

export const setOrgStatus = (slug: string, status: OrgStatus, audit: PendingAudit, now = new Date()): Promise<Org> =>
  rewriteOrg(slug, (item) => ({ ...item, status }), audit, now);

/** A limit's new value, or null to return it to the default. */
export type LimitsChange = { [K in keyof OrgLimits]?: number | null };

/** Changes an org's name or limits. */
export const updateOrg = (slug: string, change: { name?: string; limits?: LimitsChange }, audit: PendingAudit, now = new Date()): Promise<Org> =>
  rewriteOrg(slug, (item) => {
    const limits: Record<string, number> = { ...item.limits };
    for (const [limit, value] of Object.entries(change.limits ?? {})) {
      if (value === null) delete limits[limit];
      else if (value !== undefined) limits[limit] = value;
    }
    return { ...item, name: change.name ?? item.name, limits };
  }, audit, now);

/**
 * Writes back the org's record as `change` makes it, with its audit record, under a condition on
 * what was read: two admins' concurrent changes of different fields both land (one is retried).
 */
async function rewriteOrg(slug: string, change: (item: Record<string, any>) => Record<string, any>, audit: PendingAudit, now: Date): Promise<Org> {
  const table = orgRegistryTable(slug);
  for (let attempt = 1; ; attempt++) {
    const { Item } = await table.client.send(new GetCommand({ TableName: table.name, Key: keys.orgRecord(slug), ConsistentRead: true }));
    if (!Item) throw notFound("No such org.");
    const next = { ...change(Item), updatedAt: now.toISOString() };
    try {
      await commitAudited(table, audit, toOrg(next), [{
        name: "org",
        Put: { TableName: table.name, Item: next, ConditionExpression: "updatedAt = :seen", ExpressionAttributeValues: { ":seen": Item.updatedAt } },
      }]);
      forgetOrg(slug);
      return toOrg(next);
    } catch (error) {
      if (!(error instanceof TransactionRefused && error.failed("org")) || attempt >= 3) throw error;
    }
  }
}
