import { orgPartition } from "../data/keys.ts";
import { arn, type AwsLocation } from "./arn.ts";
import { policyDocument, type RoleDocuments, type Statement } from "./document.ts";
import { denyScan, ITEM_READ_ACTIONS, ITEM_WRITE_ACTIONS, leadingKeys, partitionAndBelow } from "./dynamodb.ts";
import type { PlatformNames } from "./names.ts";

/** The only session tag the tenant data role accepts: the org the request's host resolved to. */
export const TENANT_SESSION_TAG = "org";
const ORG_FROM_SESSION = `\${aws:PrincipalTag/${TENANT_SESSION_TAG}}`;

/**
 * Characters that would turn a tag value into a pattern or a path: `*` and `?` are policy
 * wildcards, `$` opens a policy variable, `#` is the key separator. Org slugs never contain them.
 * Written as `${*}`-style escapes, which policies read as the literal character.
 */
export const UNSAFE_TAG_VALUE_PATTERNS = ["*${*}*", "*${?}*", "*${$}*", "*#*"] as const;

export type TenantDataRoleInput = {
  location: AwsLocation;
  platform: PlatformNames;
  /** The execution roles of org-scoped functions: the only principals that may assume this role. */
  callerRoleArns: readonly string[];
};

/**
 * Layer 4 of DESIGN.md: one static role, assumed per request with the session tag `org`. Every
 * item it can touch sits in `ORG#<org>` or under `ORG#<org>#`, whatever the code asks for.
 */
export function tenantDataRole(input: TenantDataRoleInput): RoleDocuments {
  const { location, platform } = input;
  if (input.callerRoleArns.length === 0) throw new Error("the tenant data role needs at least one caller");
  const table = arn.table(location, platform.table);
  const own = partitionAndBelow(orgPartition(ORG_FROM_SESSION));
  const keys = leadingKeys(own);

  const policy = policyDocument([
    {
      Sid: "OwnOrgItems",
      Effect: "Allow",
      Action: [...ITEM_READ_ACTIONS, ...ITEM_WRITE_ACTIONS],
      Resource: [table],
      Condition: {
        ...keys,
        // An unresolved policy variable already fails the match; the session must carry the tag regardless.
        Null: { ...keys.Null, [`aws:PrincipalTag/${TENANT_SESSION_TAG}`]: "false" },
      },
    },
    denyScan([table, arn.tableIndexes(location, platform.table)]),
  ]);

  const trust = policyDocument([tagged(input.callerRoleArns), refuseUnsafeTags()]);

  return {
    kind: "role",
    name: platform.tenantDataRole,
    arn: arn.role(location, platform.tenantDataRole),
    description: "Tenant data access: items of the org named by the session tag, nothing else",
    policy,
    trust,
    sessionTags: [TENANT_SESSION_TAG],
  };
}

function tagged(callers: readonly string[]): Statement {
  return {
    Sid: "OrgScopedFunctionsWithOrgTag",
    Effect: "Allow",
    Principal: { AWS: [...callers] },
    Action: ["sts:AssumeRole", "sts:TagSession"],
    Condition: {
      Null: { [`aws:RequestTag/${TENANT_SESSION_TAG}`]: "false" },
      "ForAllValues:StringEquals": { "aws:TagKeys": [TENANT_SESSION_TAG] },
    },
  };
}

function refuseUnsafeTags(): Statement {
  return {
    Sid: "RefuseUnsafeOrgTag",
    Effect: "Deny",
    Principal: { AWS: "*" },
    Action: ["sts:AssumeRole", "sts:TagSession"],
    Condition: { StringLike: { [`aws:RequestTag/${TENANT_SESSION_TAG}`]: [...UNSAFE_TAG_VALUE_PATTERNS] } },
  };
}
