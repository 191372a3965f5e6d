import { TABLE_SCHEMA } from "../data/table-schema.ts";
import { arn, type AwsLocation } from "./arn.ts";
import { policyDocument, type RoleDocuments } from "./document.ts";
import { denyScan, leadingKeys } from "./dynamodb.ts";
import type { PlatformNames } from "./names.ts";
import { tenantDataAccess } from "./platform.ts";
import { lambdaTrust } from "./trust.ts";

/** The scheduled KEK-rotation job (functions/src/jobs/rotate-keys.ts). */
export const KEK_ROTATION_JOB = "kek-rotation";

export type JobRoleInput = { location: AwsLocation; platform: PlatformNames };

/**
 * The KEK-rotation job's execution role: its own log group, Query on the KEK-rotation index
 * only (keys of due apps, its one partition value), and the tenant data role with an `org`
 * session tag, through which each app's items and KEK are reached (data/tables.ts `tenantTable`,
 * the key store's per-org clients). It holds no right on any table partition and no Secrets
 * Manager right of its own; Scan is denied.
 */
export function kekRotationJobRole(input: JobRoleInput): RoleDocuments {
  const { location: l, platform } = input;
  const index = TABLE_SCHEMA.indexes.kekRotation;
  const table = arn.table(l, platform.table);
  const name = platform.jobRole(KEK_ROTATION_JOB);
  const policy = policyDocument([
    { Sid: "WriteOwnLogs", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: [arn.logStreams(l, platform.jobLogGroup(KEK_ROTATION_JOB))] },
    {
      Sid: "QueryKekRotationIndex",
      Effect: "Allow",
      Action: ["dynamodb:Query"],
      Resource: [arn.tableIndex(l, platform.table, index.name)],
      Condition: leadingKeys([index.partitionValue]),
    },
    ...tenantDataAccess(l, platform),
    denyScan([table, arn.tableIndexes(l, platform.table)]),
  ]);
  return {
    kind: "role",
    name,
    arn: arn.role(l, name),
    description: "Scheduled KEK rotation: due apps from the KEK-rotation index, each app's work through its org's tenant session",
    policy,
    trust: lambdaTrust(),
    sessionTags: [],
  };
}

/** The artifact bucket's ObjectCreated notification for source ZIPs (functions/src/jobs/source-uploaded.ts). */
export const SOURCE_UPLOADED_JOB = "source-uploaded";

/**
 * The source-uploaded handler's execution role: its own log group and the tenant data role with
 * an `org` session tag (each event's key names one org and app; the source record and its audit
 * entry are written through that org's tenant session). No S3 right: the event says all it needs.
 */
export function sourceUploadedJobRole(input: JobRoleInput): RoleDocuments {
  const { location: l, platform } = input;
  const table = arn.table(l, platform.table);
  const name = platform.jobRole(SOURCE_UPLOADED_JOB);
  return {
    kind: "role",
    name,
    arn: arn.role(l, name),
    description: "Source uploads: marks an announced source uploaded when S3 reports its object, through its org's tenant session",
    policy: policyDocument([
      { Sid: "WriteOwnLogs", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: [arn.logStreams(l, platform.jobLogGroup(SOURCE_UPLOADED_JOB))] },
      ...tenantDataAccess(l, platform),
      denyScan([table, arn.tableIndexes(l, platform.table)]),
    ]),
    trust: lambdaTrust(),
    sessionTags: [],
  };
}
