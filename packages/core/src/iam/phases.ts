import { arn, type AwsLocation } from "./arn.ts";
import { policyDocument, type PolicyDocument, type Statement } from "./document.ts";
import { ECR_PUSH_ACTIONS } from "./app-roles.ts";
import { APP_NAME_PREFIX, appNames, releaseFunctionName, type AppScope } from "./names.ts";

/** A grant's phase. Observe is the steady state and read-only; the others are elevations. */
export const PHASES = ["Install", "Observe", "Deploy", "Operate"] as const;
export type Phase = (typeof PHASES)[number];

/** AWS refuses an inline session policy longer than this (characters of its JSON). */
export const SESSION_POLICY_MAX_CHARS = 2048;

/** Destructive actions on data stores: denied in every phase whatever the role allows. */
export const DATA_STORE_DELETIONS = [
  "dynamodb:DeleteTable",
  "dynamodb:DeleteBackup",
  "rds:DeleteDB*",
  "rds:DeleteGlobalCluster",
  "s3:DeleteBucket",
  "elasticfilesystem:DeleteFileSystem",
  "elasticache:Delete*",
  "secretsmanager:DeleteSecret",
  "backup:DeleteBackupVault",
  "backup:DeleteRecoveryPoint",
  "kms:ScheduleKeyDeletion",
  "ecr:DeleteRepository",
  "logs:DeleteLogGroup",
] as const;

/** Every IAM action that changes something (write, permissions management, tagging). */
export const IAM_MUTATIONS = [
  "iam:Add*", "iam:Attach*", "iam:Change*", "iam:Create*", "iam:Deactivate*", "iam:Delete*",
  "iam:Detach*", "iam:Enable*", "iam:PassRole", "iam:Put*", "iam:Remove*", "iam:Reset*",
  "iam:Resync*", "iam:Set*", "iam:Tag*", "iam:Untag*", "iam:Update*", "iam:Upload*",
] as const;

function guardrails(t: AwsLocation): Statement[] {
  return [
    // Denies cover every resource on purpose: a wider deny only narrows.
    { Sid: "DenyDataStoreDeletion", Effect: "Deny", Action: [...DATA_STORE_DELETIONS], Resource: ["*"] },
    {
      Sid: "DenyIamOutsidePlatform",
      Effect: "Deny",
      Action: [...IAM_MUTATIONS],
      NotResource: [arn.role(t, "bulkhead-*"), arn.managedPolicy(t, "bulkhead-*")],
    },
  ];
}

/** What applying one release takes: new code from the artifact, published, and the alias moved to it. */
export const RELEASE_ACTIONS = ["lambda:UpdateFunctionCode", "lambda:PublishVersion", "lambda:UpdateAlias"] as const;

/** A function and its versions and aliases (`…:function:<name>:<qualifier>`). */
const withQualifiers = (functionArn: string): string[] => [functionArn, `${functionArn}:*`];

/**
 * The resource-scoped statements each phase adds, for one app in the target account. The app's
 * functions are its release function (the one the deploy workflow updates) and its key-named ones.
 * None reaches the platform's artifact bucket: the apply task reads the artifact with the
 * platform's own artifact reader (artifact-reader.ts) and uploads its bytes (`ZipFile`).
 */
function appStatements(t: AwsLocation, scope: AppScope): Record<Phase, Statement[]> {
  const n = appNames(scope);
  const logGroups = [n.runtimeLogGroup, n.buildLogGroup].flatMap((g) => [arn.logGroup(t, g), arn.logStreams(t, g)]);
  const functions = [arn.lambda(t, `${n.functionPrefix}*`), ...withQualifiers(arn.lambda(t, n.releaseFunction))];
  const repository = arn.repository(t, n.repository);
  const secret = arn.secret(t, n.credentialStoreSecret);
  const alarms = arn.alarm(t, `${n.alarmPrefix}*`);
  const passRuntimeRole: Statement = {
    Sid: "PassOwnRuntimeRoleToLambda",
    Effect: "Allow",
    Action: ["iam:PassRole"],
    Resource: [arn.role(t, n.runtimeRole)],
    Condition: { StringEquals: { "iam:PassedToService": "lambda.amazonaws.com" } },
  };
  return {
    Observe: [
      { Sid: "ReadOwnLogs", Effect: "Allow", Action: ["logs:DescribeLogStreams", "logs:GetLogEvents", "logs:FilterLogEvents"], Resource: logGroups },
      { Sid: "DescribeOwnFunctions", Effect: "Allow", Action: ["lambda:GetFunction", "lambda:GetFunctionConfiguration"], Resource: functions },
      { Sid: "DescribeOwnImages", Effect: "Allow", Action: ["ecr:DescribeRepositories", "ecr:DescribeImages", "ecr:ListImages"], Resource: [repository] },
      // Metadata only: the value (GetSecretValue) is never part of a grant.
      { Sid: "DescribeOwnCredentialStore", Effect: "Allow", Action: ["secretsmanager:DescribeSecret", "secretsmanager:ListSecretVersionIds"], Resource: [secret] },
      // The build role is not here: builds run in the platform's account, never in a target.
      { Sid: "DescribeOwnRoles", Effect: "Allow", Action: ["iam:GetRole"], Resource: [arn.role(t, n.runtimeRole)] },
      { Sid: "DescribeOwnAlarms", Effect: "Allow", Action: ["cloudwatch:DescribeAlarms"], Resource: [alarms] },
    ],
    Install: [
      {
        Sid: "CreateOwnRepository",
        Effect: "Allow",
        Action: ["ecr:CreateRepository", "ecr:TagResource", "ecr:PutImageScanningConfiguration", "ecr:PutLifecyclePolicy"],
        Resource: [repository],
      },
      { Sid: "CreateOwnLogGroups", Effect: "Allow", Action: ["logs:CreateLogGroup", "logs:PutRetentionPolicy", "logs:TagResource"], Resource: logGroups },
      { Sid: "CreateOwnFunctions", Effect: "Allow", Action: ["lambda:CreateFunction", "lambda:TagResource"], Resource: functions },
      passRuntimeRole,
    ],
    Deploy: [
      { Sid: "PushOwnImages", Effect: "Allow", Action: [...ECR_PUSH_ACTIONS], Resource: [repository] },
      // AWS requires "*": GetAuthorizationToken has no resource type; pushes are checked by PushOwnImages.
      { Sid: "RegistryLogin", Effect: "Allow", Action: ["ecr:GetAuthorizationToken"], Resource: ["*"] },
      {
        Sid: "UpdateOwnFunctions",
        Effect: "Allow",
        Action: [...RELEASE_ACTIONS, "lambda:UpdateFunctionConfiguration", "lambda:CreateAlias"],
        Resource: functions,
      },
      passRuntimeRole,
    ],
    Operate: [
      { Sid: "OperateOwnFunctions", Effect: "Allow", Action: ["lambda:PutFunctionConcurrency", "lambda:DeleteFunctionConcurrency", "lambda:UpdateAlias"], Resource: functions },
      { Sid: "SetOwnLogRetention", Effect: "Allow", Action: ["logs:PutRetentionPolicy"], Resource: logGroups },
      { Sid: "ManageOwnAlarms", Effect: "Allow", Action: ["cloudwatch:PutMetricAlarm"], Resource: [alarms] },
      // Starts a rotation of the app's KEK; the value stays unreadable.
      { Sid: "RotateOwnKek", Effect: "Allow", Action: ["secretsmanager:RotateSecret"], Resource: [secret] },
    ],
  };
}

/** What a phase may do on top of Observe (every elevated phase can still read). */
const withObserve = (phase: Phase, s: Record<Phase, Statement[]>): Statement[] =>
  phase === "Observe" ? s.Observe : [...s.Observe, ...s[phase]];

/**
 * The platform's namespace, per service. Region and account are wildcards to stay inside AWS's
 * session policy size cap; the session's own account and the role's exact ARNs still apply.
 */
function namespace(partition: string): Record<string, string[]> {
  return {
    logs: [`arn:${partition}:logs:*:*:log-group:/bulkhead/*`],
    lambda: [`arn:${partition}:lambda:*:*:function:${APP_NAME_PREFIX}*`, `arn:${partition}:lambda:*:*:function:${releaseFunctionName("*", "*")}`],
    ecr: [`arn:${partition}:ecr:*:*:repository/bulkhead/*`],
    secretsmanager: [`arn:${partition}:secretsmanager:*:*:secret:bulkhead/*`],
    iam: [`arn:${partition}:iam::*:role/${APP_NAME_PREFIX}*`],
    cloudwatch: [`arn:${partition}:cloudwatch:*:*:alarm:${APP_NAME_PREFIX}*`],
  };
}

/**
 * The session policy for one phase: what the platform passes as `Policy` when it assumes an
 * org's deploy role. It keeps the phase's actions, inside the platform's namespace of the target
 * account, and carries the guardrail denies. Which app a session reaches is decided by the role:
 * its statements hold only for sessions tagged with that app (customerPolicy). AWS caps inline
 * session policies at 2,048 characters, which per-app ARNs for every phase would exceed.
 */
export function phaseSessionPolicy(phase: Phase, target: AwsLocation): PolicyDocument {
  // Any valid app yields the same actions; the scope only shapes ARNs, which are not used here.
  const statements = withObserve(phase, appStatements(target, { org: "actions", app: "only" }));
  const scoped = statements.filter((s) => !s.Resource?.includes("*"));
  const unscoped = statements.filter((s) => s.Resource?.includes("*"));
  const actions = [...new Set(scoped.flatMap((s) => s.Action ?? []))];
  const services = [...new Set(actions.map((action) => action.split(":")[0]!))];
  const places = namespace(target.partition);
  const document = policyDocument([
    { Sid: `${phase}Actions`, Effect: "Allow", Action: actions, Resource: services.flatMap((service) => places[service]!) },
    ...unscoped,
    ...guardrails(target),
  ]);
  return withinSessionCap(`the ${phase} session policy`, document);
}

/**
 * One app's inline policy on its org's deploy role: every phase's statements for that app, each
 * holding only for sessions tagged with this org and app, plus the guardrail denies. The role is
 * the customer's: this document is the ceiling no session policy can raise.
 */
export function customerPolicy(input: { target: AwsLocation; scope: AppScope }): PolicyDocument {
  const { target, scope } = input;
  const s = appStatements(target, scope);
  const bySid = new Map<string, Statement>();
  for (const phase of PHASES) for (const statement of s[phase]) bySid.set(statement.Sid, statement);
  const forThisApp = (statement: Statement): Statement => ({
    ...statement,
    Condition: {
      ...statement.Condition,
      StringEquals: {
        ...statement.Condition?.StringEquals,
        "aws:PrincipalTag/org": scope.org,
        "aws:PrincipalTag/app": scope.app,
      },
    },
  });
  return policyDocument([...[...bySid.values()].map(forThisApp), ...guardrails(target)]);
}

/** Refuses a session policy AWS would refuse at AssumeRole. */
function withinSessionCap(what: string, document: PolicyDocument): PolicyDocument {
  const size = JSON.stringify(document).length;
  if (size > SESSION_POLICY_MAX_CHARS) throw new Error(`${what} is ${size} characters, over AWS's ${SESSION_POLICY_MAX_CHARS}`);
  return document;
}

/**
 * The session policy of one release, which the deploy workflow passes when it assumes the
 * target's deploy role (a customer's, or the hosted one): the Deploy phase narrowed to applying
 * code to this app's release function. The code travels in the request (`ZipFile`), so the
 * session reads nothing of the platform's. Whatever the role allows, the session can touch no
 * other app and nothing but these actions.
 */
export function releaseSessionPolicy(input: { target: AwsLocation; scope: AppScope }): PolicyDocument {
  const { target, scope } = input;
  const n = appNames(scope);
  return withinSessionCap("the release session policy", policyDocument([
    { Sid: "ApplyReleaseToOwnFunction", Effect: "Allow", Action: [...RELEASE_ACTIONS], Resource: withQualifiers(arn.lambda(target, n.releaseFunction)) },
    ...guardrails(target),
  ]));
}
