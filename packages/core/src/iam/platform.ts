import { auditRecordPartition } from "../data/keys.ts";
import { TENANT_SESSION_TAG } from "../data/tenant-session.ts";
import type { RouteDef } from "../routes/types.ts";
import { arn, type AwsLocation } from "./arn.ts";
import { policyDocument, type PolicyDocument, type RoleDocuments, type Statement } from "./document.ts";
import { denyScan, leadingKeys } from "./dynamodb.ts";
import { sourceObjectKey, type PlatformNames } from "./names.ts";
import { tagOnly } from "./session-tags.ts";
import { lambdaTrust } from "./trust.ts";

/** Platform items (`REGISTRY#…`, see data/keys.ts). Tenant partitions start `ORG#` and never match. */
const REGISTRY_PARTITIONS = ["REGISTRY#*"];
/** Registry records are read by key (tenant resolution, org reads); nothing lists them yet. */
const REGISTRY_READ_ACTIONS = ["dynamodb:GetItem"] as const;
const REGISTRY_WRITE_ACTIONS = ["dynamodb:PutItem", "dynamodb:UpdateItem"] as const;

/** What a route's function may reach; derived from the route so a new route gets the narrowest default. */
export type FunctionAccess = {
  /** Every function resolves its host's org from the registry; platform routes that change state write it. */
  registry: "read" | "read-write";
  /** Org-host routes reach tenant data, only through the tenant data role (layer 4). */
  tenantData: boolean;
  /**
   * A platform route that changes an org's registry record commits the change's audit record in
   * the same transaction, in that org's record partition: it may put records there, and nothing else of any org.
   */
  orgAuditRecords: boolean;
};

export function functionAccess(route: Pick<RouteDef, "host" | "method" | "auditOrgFrom">): FunctionAccess {
  const platformChange = route.host === "platform" && route.method !== "GET";
  return {
    registry: platformChange ? "read-write" : "read",
    tenantData: route.host === "org",
    orgAuditRecords: platformChange && route.auditOrgFrom !== undefined,
  };
}

/** Any org's unsequenced audit records (data/keys.ts auditRecordPartition); ids never contain `#`, so no other partition matches. */
const ORG_AUDIT_RECORD_PARTITIONS = [auditRecordPartition("*")];

export type FunctionRoleInput = {
  location: AwsLocation;
  platform: PlatformNames;
  routeId: string;
  access: FunctionAccess;
  /** What a route's code calls beyond its table access (infra/functions.ts names them per route). */
  calls?: FunctionCalls;
};

export type FunctionCalls = {
  /**
   * The audit checkpoint key (audit/kms-signer.ts), that key only: its public key for every caller,
   * `sign` for the routes that write checkpoints.
   */
  checkpointKey?: { arn: string; sign: boolean };
  /** Start or stop executions of the deployment state machine (deployments/cloud/sfn.ts). */
  deploymentExecutions?: readonly ("start" | "stop")[];
  /**
   * Sign presigned POST forms for source ZIPs (sources/uploads.ts): S3 accepts a form only within
   * its signer's rights, so the signer may put source ZIPs (`<org>/<app>/sources/<ref>.zip`) and
   * nothing else of the artifact bucket.
   */
  sourceUploads?: boolean;
  /** Read build logs (deployments/cloud/logs.ts): deployments.get shows a running build's log. */
  buildLogs?: boolean;
};

/** Read the apps' build logs, `/bulkhead/<org>/<app>/build` (names.ts appNames), and nothing else of CloudWatch Logs. */
export const readBuildLogs = (l: AwsLocation): Statement => ({
  Sid: "ReadBuildLogs",
  Effect: "Allow",
  Action: ["logs:DescribeLogStreams", "logs:GetLogEvents"],
  Resource: [arn.logGroup(l, "/bulkhead/*/build"), arn.logStreams(l, "/bulkhead/*/build")],
});

/** Assume the tenant data role, tagging the session with exactly `org`: org routes and workflow tasks. */
export function tenantDataAccess(l: AwsLocation, platform: PlatformNames): Statement[] {
  const tenantRole = arn.role(l, platform.tenantDataRole);
  return [
    { Sid: "AssumeTenantData", Effect: "Allow", Action: ["sts:AssumeRole"], Resource: [tenantRole] },
    tagOnly("TagTenantSessionWithOrg", [tenantRole], [TENANT_SESSION_TAG]),
  ];
}

function callStatements(l: AwsLocation, platform: PlatformNames, calls: FunctionCalls): Statement[] {
  const statements: Statement[] = [];
  if (calls.checkpointKey) {
    const { arn: key, sign } = calls.checkpointKey;
    statements.push(sign
      ? { Sid: "SignAuditCheckpoints", Effect: "Allow", Action: ["kms:Sign", "kms:GetPublicKey"], Resource: [key] }
      : { Sid: "ReadCheckpointPublicKey", Effect: "Allow", Action: ["kms:GetPublicKey"], Resource: [key] });
  }
  const executions = calls.deploymentExecutions ?? [];
  if (executions.includes("start")) {
    statements.push({ Sid: "StartDeployments", Effect: "Allow", Action: ["states:StartExecution"], Resource: [arn.stateMachine(l, platform.deploymentStateMachine)] });
  }
  if (executions.includes("stop")) {
    statements.push({ Sid: "StopDeployments", Effect: "Allow", Action: ["states:StopExecution"], Resource: [arn.executions(l, platform.deploymentStateMachine)] });
  }
  if (calls.sourceUploads) {
    statements.push({
      Sid: "SignSourceUploads", Effect: "Allow", Action: ["s3:PutObject"],
      Resource: [`${arn.bucket(l, platform.artifactBucket)}/${sourceObjectKey("*", "*", "*")}`],
    });
  }
  if (calls.buildLogs) statements.push(readBuildLogs(l));
  return statements;
}

/**
 * A route function's execution role: its own log group, the registry partitions it needs, for
 * org routes the right to assume the tenant data role with an `org` tag, and the calls its route
 * declares (`calls`), each on its one resource, and nothing more.
 * It holds no right on any `ORG#` partition itself, but for putting an org change's audit record.
 */
export function functionRole(input: FunctionRoleInput): RoleDocuments {
  const { location: l, platform, routeId, access } = input;
  const table = arn.table(l, platform.table);
  const logGroup = platform.functionLogGroup(routeId);
  const registryActions = access.registry === "read-write" ? [...REGISTRY_READ_ACTIONS, ...REGISTRY_WRITE_ACTIONS] : [...REGISTRY_READ_ACTIONS];
  const statements: Statement[] = [
    { Sid: "WriteOwnLogs", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: [arn.logStreams(l, logGroup)] },
    { Sid: access.registry === "read-write" ? "ReadWriteRegistry" : "ReadRegistry", Effect: "Allow", Action: registryActions, Resource: [table], Condition: leadingKeys(REGISTRY_PARTITIONS) },
  ];
  if (access.orgAuditRecords) {
    statements.push({ Sid: "AppendOrgAuditRecords", Effect: "Allow", Action: ["dynamodb:PutItem"], Resource: [table], Condition: leadingKeys(ORG_AUDIT_RECORD_PARTITIONS) });
  }
  if (access.tenantData) statements.push(...tenantDataAccess(l, platform));
  statements.push(...callStatements(l, platform, input.calls ?? {}));
  statements.push(denyScan([table, arn.tableIndexes(l, platform.table)]));
  const name = platform.functionRole(routeId);
  return {
    kind: "role",
    name,
    arn: arn.role(l, name),
    description: `Function of route ${routeId}`,
    policy: policyDocument(statements),
    trust: lambdaTrust(),
    sessionTags: [],
  };
}

/** The console's function id: its names come from platformNames like a route's. */
export const CONSOLE_FUNCTION_ID = "console.assets";

/**
 * The console's function serves files it carries and reads no table, key or secret: it may write
 * its own log group and nothing else.
 */
export function consoleFunctionRole(location: AwsLocation, platform: PlatformNames): RoleDocuments {
  const logGroup = platform.functionLogGroup(CONSOLE_FUNCTION_ID);
  const name = platform.functionRole(CONSOLE_FUNCTION_ID);
  return {
    kind: "role",
    name,
    arn: arn.role(location, name),
    description: "Function serving the console's static files",
    policy: policyDocument([
      { Sid: "WriteOwnLogs", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: [arn.logStreams(location, logGroup)] },
    ]),
    trust: lambdaTrust(),
    sessionTags: [],
  };
}

/** The artifact bucket's resource policy: TLS 1.2 or later, on every request, from everyone. */
export function artifactBucketPolicy(location: AwsLocation, bucket: string): PolicyDocument {
  const resources = [arn.bucket(location, bucket), `${arn.bucket(location, bucket)}/*`];
  // "s3:*" in a Deny: every S3 action over plain HTTP or old TLS is refused.
  return policyDocument([
    { Sid: "DenyInsecureTransport", Effect: "Deny", Principal: "*", Action: ["s3:*"], Resource: resources, Condition: { Bool: { "aws:SecureTransport": "false" } } },
    { Sid: "DenyOldTls", Effect: "Deny", Principal: "*", Action: ["s3:*"], Resource: resources, Condition: { NumericLessThan: { "s3:TlsVersion": "1.2" } } },
  ]);
}
