import { orgPartition } from "../data/keys.ts";
import { TABLE_INDEXES } from "../data/table-schema.ts";
import { TENANT_SESSION_TAG } from "../data/tenant-session.ts";
import { arn, type AwsLocation } from "./arn.ts";
import { policyDocument, type RoleDocuments } from "./document.ts";
import { denyScan, ITEM_READ_ACTIONS, ITEM_WRITE_ACTIONS, leadingKeys, partitionAndBelow } from "./dynamodb.ts";
import type { PlatformNames } from "./names.ts";
import { allowTagging, refuseUnsafeTagValues } from "./session-tags.ts";

const ORG_FROM_SESSION = `\${aws:PrincipalTag/${TENANT_SESSION_TAG}}`;

/**
 * What the Secrets Manager key store (key-stores/secrets-manager-key-store.ts) calls on an app's
 * KEK secret. CreateSecret with tags also needs TagResource.
 */
/** Read and destroy a KEK, and rotate it (describe versions, add a pending one, move staging labels). */
export const KEK_ACTIONS = [
  "secretsmanager:GetSecretValue",
  "secretsmanager:DeleteSecret",
  "secretsmanager:DescribeSecret",
  "secretsmanager:PutSecretValue",
  "secretsmanager:UpdateSecretVersionStage",
] as const;
export const KEK_CREATE_ACTIONS = ["secretsmanager:CreateSecret", "secretsmanager:TagResource"] as const;
/** The tags every KEK secret carries (key-stores/key-store.ts, kekTags). */
export const KEK_TAG_KEYS = ["org", "app"] as const;

export type TenantDataRoleInput = {
  location: AwsLocation;
  platform: PlatformNames;
  /** The execution roles of org-scoped functions, tasks and jobs: the only principals that may assume this role. */
  callerRoleArns: readonly string[];
};

/**
 * Layer 4 of the README's "Isolation, layer by layer": one static role, assumed per request
 * with the session tag `org`. Every item it can touch sits in `ORG#<org>` or under `ORG#<org>#`,
 * and every KEK secret under `bulkhead/<org>/`, whatever the code asks for.
 */
export function tenantDataRole(input: TenantDataRoleInput): RoleDocuments {
  const { location, platform } = input;
  if (input.callerRoleArns.length === 0) throw new Error("the tenant data role needs at least one caller");
  const table = arn.table(location, platform.table);
  const own = partitionAndBelow(orgPartition(ORG_FROM_SESSION));
  const keys = leadingKeys(own);
  // KEK secrets are `bulkhead/<org>/<app>/kek`; an org slug holds no `/`, so `acme/` never matches `acme2/`.
  const ownKeks = `arn:${location.partition}:secretsmanager:${location.region}:${location.account}:secret:bulkhead/${ORG_FROM_SESSION}/*`;
  const sessionHasOrg = { [`aws:PrincipalTag/${TENANT_SESSION_TAG}`]: "false" };

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
    // The platform indexes list every org's items under one partition value (the KEK-rotation
    // index apps, the active-deployments index deployments); only their jobs read them. Nothing
    // above allows an index, and this keeps it so whatever is added later.
    {
      Sid: "DenyPlatformIndexes",
      Effect: "Deny",
      Action: ["dynamodb:Query"],
      Resource: TABLE_INDEXES.map((index) => arn.tableIndex(location, platform.table, index.name)),
    },
    { Sid: "OwnOrgKeks", Effect: "Allow", Action: [...KEK_ACTIONS], Resource: [ownKeks], Condition: { Null: sessionHasOrg } },
    {
      Sid: "CreateOwnOrgKeks",
      Effect: "Allow",
      Action: [...KEK_CREATE_ACTIONS],
      Resource: [ownKeks],
      // The new secret's `org` tag is the session's org, and it carries exactly the KEK tags.
      Condition: {
        StringEquals: { [`aws:RequestTag/${TENANT_SESSION_TAG}`]: ORG_FROM_SESSION },
        "ForAllValues:StringEquals": { "aws:TagKeys": [...KEK_TAG_KEYS] },
        Null: { ...sessionHasOrg, [`aws:RequestTag/${TENANT_SESSION_TAG}`]: "false" },
      },
    },
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
    description: "Tenant data access: items and KEK secrets of the org named by the session tag, nothing else",
    policy,
    trust,
    sessionTags: [TENANT_SESSION_TAG],
  };
}
