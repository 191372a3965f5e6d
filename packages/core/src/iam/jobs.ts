import { TABLE_SCHEMA } from "../data/table-schema.ts";
import { arn, type AwsLocation } from "./arn.ts";
import { policyDocument, type RoleDocuments } from "./document.ts";
import { denyScan, leadingKeys } from "./dynamodb.ts";
import type { PlatformNames } from "./names.ts";
import { tenantDataAccess } from "./platform.ts";
import { lambdaTrust } from "./trust.ts";

/** The scheduled KEK-rotation job (functions/src/jobs/rotate-keys.ts). */
export const KEK_ROTATION_JOB = "kek-rotation";
/** The audit sequencer, fed by the table's stream (functions/src/jobs/audit-sequencer.ts). */
export const AUDIT_SEQUENCER_JOB = "audit-sequencer";

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

/**
 * The audit sequencer's execution role: its own log group, reading the table's stream (what the
 * event source mapping does on its behalf), signing tree heads with the audit key, and the
 * tenant data role with an `org` session tag, through which each org's records, entries and
 * heads are reached. It holds no right on any table partition itself; Scan is denied.
 */
export function auditSequencerRole(input: JobRoleInput & { signingKeyArn: string }): RoleDocuments {
  const { location: l, platform } = input;
  const table = arn.table(l, platform.table);
  const name = platform.jobRole(AUDIT_SEQUENCER_JOB);
  const policy = policyDocument([
    { Sid: "WriteOwnLogs", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: [arn.logStreams(l, platform.jobLogGroup(AUDIT_SEQUENCER_JOB))] },
    {
      Sid: "ReadTableStream",
      Effect: "Allow",
      Action: ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"],
      Resource: [arn.tableStreams(l, platform.table)],
    },
    { Sid: "SignTreeHeads", Effect: "Allow", Action: ["kms:Sign", "kms:GetPublicKey"], Resource: [input.signingKeyArn] },
    ...tenantDataAccess(l, platform),
    denyScan([table, arn.tableIndexes(l, platform.table)]),
  ]);
  return {
    kind: "role",
    name,
    arn: arn.role(l, name),
    description: "Audit sequencer: new records from the table stream, each org's log through its org's tenant session",
    policy,
    trust: lambdaTrust(),
    sessionTags: [],
  };
}
