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
/** The scheduled stuck-deployment sweep (functions/src/jobs/sweep-deployments.ts). */
export const DEPLOYMENT_SWEEP_JOB = "deployment-sweep";

export type JobRoleInput = { location: AwsLocation; platform: PlatformNames };

type PlatformIndex = (typeof TABLE_SCHEMA.indexes)[keyof typeof TABLE_SCHEMA.indexes];

/**
 * A job that walks one platform index: its own log group, Query on that index only (its one
 * partition value), and the tenant data role with an `org` session tag, through which each item's
 * work is done (data/tables.ts `tenantTable`). It holds no right on any table partition; Scan is denied.
 */
function indexJobRole(input: JobRoleInput, job: string, index: PlatformIndex, sid: string, description: string): RoleDocuments {
  const { location: l, platform } = input;
  const table = arn.table(l, platform.table);
  const name = platform.jobRole(job);
  const policy = policyDocument([
    { Sid: "WriteOwnLogs", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: [arn.logStreams(l, platform.jobLogGroup(job))] },
    {
      Sid: sid,
      Effect: "Allow",
      Action: ["dynamodb:Query"],
      Resource: [arn.tableIndex(l, platform.table, index.name)],
      Condition: leadingKeys([index.partitionValue]),
    },
    ...tenantDataAccess(l, platform),
    denyScan([table, arn.tableIndexes(l, platform.table)]),
  ]);
  return { kind: "role", name, arn: arn.role(l, name), description, policy, trust: lambdaTrust(), sessionTags: [] };
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

/**
 * The KEK-rotation job's execution role: the KEK-rotation index (keys of due apps), each app's
 * items and KEK through its org's tenant session (the key store's per-org clients too); no Secrets
 * Manager right of its own.
 */
export const kekRotationJobRole = (input: JobRoleInput): RoleDocuments =>
  indexJobRole(input, KEK_ROTATION_JOB, TABLE_SCHEMA.indexes.kekRotation, "QueryKekRotationIndex",
    "Scheduled KEK rotation: due apps from the KEK-rotation index, each app's work through its org's tenant session");

/**
 * The stuck-deployment sweep's execution role: the active-deployments index (keys of deployments
 * not ended, by age), each deployment failed, with its audit entry, through its org's tenant session.
 */
export const deploymentSweepJobRole = (input: JobRoleInput): RoleDocuments =>
  indexJobRole(input, DEPLOYMENT_SWEEP_JOB, TABLE_SCHEMA.indexes.activeDeployments, "QueryActiveDeploymentsIndex",
    "Scheduled sweep: deployments past their workflow's time limit from the active-deployments index, each failed through its org's tenant session");
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
