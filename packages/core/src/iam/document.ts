/** IAM JSON policy language, as much of it as the platform writes. */

export type ConditionValues = Record<string, string | readonly string[]>;
/** Operator (e.g. `StringEquals`, `ForAllValues:StringLike`) → condition key → values. */
export type Condition = Record<string, ConditionValues>;

export type Principal = "*" | { AWS?: string | readonly string[]; Service?: string | readonly string[] };

export type Statement = {
  /** Every statement is named so a reviewer (and a simulator explain) can point at it. */
  Sid: string;
  Effect: "Allow" | "Deny";
  Principal?: Principal;
  Action?: readonly string[];
  NotAction?: readonly string[];
  Resource?: readonly string[];
  NotResource?: readonly string[];
  Condition?: Condition;
};

export type PolicyDocument = { Version: "2012-10-17"; Statement: readonly Statement[] };

const SID = /^[A-Za-z0-9]+$/;

/** A policy document; refuses unnamed, duplicate or empty statements, which IAM would also reject or hide. */
export function policyDocument(statements: readonly Statement[]): PolicyDocument {
  const seen = new Set<string>();
  for (const statement of statements) {
    if (!SID.test(statement.Sid)) throw new Error(`invalid Sid "${statement.Sid}"`);
    if (seen.has(statement.Sid)) throw new Error(`duplicate Sid "${statement.Sid}"`);
    seen.add(statement.Sid);
    if (!statement.Action?.length && !statement.NotAction?.length) throw new Error(`${statement.Sid}: no actions`);
    const hasResource = Boolean(statement.Resource?.length || statement.NotResource?.length);
    // Trust policies name a principal and no resource; every other statement names resources.
    if (!hasResource && !statement.Principal) throw new Error(`${statement.Sid}: no resources`);
  }
  return { Version: "2012-10-17", Statement: statements };
}

/**
 * The documents of one role (or, for a grant phase, of one session policy applied on top of a
 * role): what `npm run policies` prints and what infra and the workflows attach.
 */
export type RoleDocuments = {
  readonly kind: "role" | "session-policy";
  /** The IAM role's name (for a session policy: the role it narrows). */
  readonly name: string;
  readonly arn: string;
  readonly description: string;
  /** The identity policy; for a session policy, the session policy itself. */
  readonly policy: PolicyDocument;
  readonly trust?: PolicyDocument;
  /** Session tag keys the role requires on AssumeRole, in the order callers should send them. */
  readonly sessionTags: readonly string[];
  readonly permissionsBoundary?: { readonly name: string; readonly arn: string };
};

/** Every action an Allow statement grants, for reviews and tests. */
export const allowedActions = (document: PolicyDocument): string[] =>
  document.Statement.filter((s) => s.Effect === "Allow").flatMap((s) => s.Action ?? []);
