import { orgPartition } from "../data/keys.ts";
import { arn, type AwsLocation } from "./arn.ts";
import { policyDocument, type RoleDocuments } from "./document.ts";
import { denyScan, ITEM_READ_ACTIONS, ITEM_WRITE_ACTIONS, leadingKeys, partitionAndBelow } from "./dynamodb.ts";
import type { PlatformNames } from "./names.ts";
import { allowTagging, refuseUnsafeTagValues } from "./session-tags.ts";

/** The only session tag the tenant data role accepts: the org the request's host resolved to. */
export const TENANT_SESSION_TAG = "org";
const ORG_FROM_SESSION = `\${aws:PrincipalTag/${TENANT_SESSION_TAG}}`;

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

  const callers = { AWS: [...input.callerRoleArns] };
  const trust = policyDocument([
    { Sid: "OrgScopedFunctions", Effect: "Allow", Principal: callers, Action: ["sts:AssumeRole"] },
    allowTagging("OrgTagOnly", callers, [TENANT_SESSION_TAG]),
    ...refuseUnsafeTagValues([TENANT_SESSION_TAG]),
  ]);

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
