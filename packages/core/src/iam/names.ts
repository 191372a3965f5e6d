import { createHash } from "node:crypto";
import { appPartition } from "../data/keys.ts";
import { isOrgSlug } from "../ids.ts";

/** One app of one org: the unit every per-app name and policy is built for. */
export type AppScope = { readonly org: string; readonly app: string };

/**
 * An app reference: the platform's generated ids (26 base32 characters), or a short alphanumeric
 * ref for reviews (`npm run policies -- --app web`). It never holds `#`, `/`, `*`, `?`, `$`, `:`
 * or `-`, so it cannot break out of a key, a path or an ARN, cannot act as a policy wildcard or
 * variable, and `bh-<org>-<app>` splits at its last `-` into one org and one app. At most 28
 * characters, so that name fits Lambda's 64 with the longest org slug (3 + 32 + 1 + 28).
 */
const APP_REF = /^[a-z0-9]{1,28}$/;

export function appScope(input: { org: string; app: string }): AppScope {
  if (!isOrgSlug(input.org)) throw new Error(`not an org slug: "${input.org}"`);
  if (!APP_REF.test(input.app)) throw new Error(`not an app reference: "${input.app}"`);
  return { org: input.org, app: input.app };
}

const BASE32 = "abcdefghijklmnopqrstuvwxyz234567";

/**
 * A short, fixed-length key for names with tight limits (IAM role and Lambda names: 64
 * characters). Joining org and app with `-` would be ambiguous (`a-b`+`c` vs `a`+`b-c`), and the
 * pair can exceed the limit, so such names carry 80 bits of SHA-256 over `org/app` instead; the
 * owner stays readable in role descriptions and in `npm run policies`.
 */
export function appKey(scope: AppScope): string {
  const digest = createHash("sha256").update(`${scope.org}/${scope.app}`).digest();
  let key = "";
  for (let i = 0; i < 16; i++) key += BASE32[digest[i]! & 31];
  return key;
}

/**
 * Key-named app resources start with this; platform resources start with `bulkhead-<stage>-`
 * and the stage "app" is refused (see platformNames), so the two namespaces never meet.
 */
export const APP_NAME_PREFIX = "bulkhead-app-";

const MAX_ROLE_NAME = 64;
const MAX_FUNCTION_NAME = 64;

function bounded(name: string, max: number, what: string): string {
  if (name.length > max) throw new Error(`${what} "${name}" is longer than ${max} characters`);
  return name;
}

/**
 * The app's release function: the one function the deploy workflow updates and points its alias
 * at. Unlike the key-named resources it is derivable from the org and the app alone, so the hosted
 * deploy role can name it from a session's tags (`${aws:PrincipalTag/org}`), which cannot hash.
 * `bh-` is outside both `bulkhead-app-` and `bulkhead-<stage>-`.
 */
export const releaseFunctionName = (org: string, app: string): string => `bh-${org}-${app}`;

/** Where an app's sources and artifacts live in the artifact bucket; tag-derivable like the release function. */
export const artifactPrefixOf = (org: string, app: string): string => `${org}/${app}/`;

/**
 * The one object a source version is: a ZIP under the app's source prefix, which CodeBuild
 * extracts into the build's workspace (and so does the offline stand-in). A ref is one path
 * segment (sources/schemas.ts), so one ref never names another's object.
 */
export const sourceObjectKey = (org: string, app: string, ref: string): string => `${artifactPrefixOf(org, app)}sources/${ref}.zip`;

/** The IAM path of every per-app build role: the state machine may pass only roles under it. */
export const BUILD_ROLE_PATH = "/bulkhead/build/";

/** The names of everything one app owns. Identical in the platform's account and a customer's. */
export function appNames(scope: AppScope) {
  const { org, app } = scope;
  const key = appKey(scope);
  const artifactPrefix = artifactPrefixOf(org, app);
  return {
    org,
    app,
    key,
    credentialStoreSecret: `bulkhead/${org}/${app}/kek`,
    /** Everything of the app in the artifact bucket: its sources and each deployment's artifact. */
    artifactPrefix,
    /** Uploaded source versions, one ZIP per ref (sourceObjectKey): builds read them and never rewrite them. */
    sourcePrefix: `${artifactPrefix}sources/`,
    repository: `bulkhead/${org}/${app}`,
    logGroupPrefix: `/bulkhead/${org}/${app}/`,
    runtimeLogGroup: `/bulkhead/${org}/${app}/runtime`,
    buildLogGroup: `/bulkhead/${org}/${app}/build`,
    metricsNamespace: `bulkhead/${org}/${app}`,
    dataPartition: appPartition(org, app),
    runtimeRole: `${APP_NAME_PREFIX}${key}-runtime`,
    /** In the platform's account, under BUILD_ROLE_PATH; builds run in the platform's one build project. */
    buildRole: `${APP_NAME_PREFIX}${key}-build`,
    /** The function releases go to (see releaseFunctionName), and the alias that marks the live one. */
    releaseFunction: bounded(releaseFunctionName(org, app), MAX_FUNCTION_NAME, "function name"),
    releaseAlias: "live",
    /** The app's further compute: Lambda functions named `bulkhead-app-<key>-<name>`. */
    functionPrefix: `${APP_NAME_PREFIX}${key}-`,
    alarmPrefix: `${APP_NAME_PREFIX}${key}-`,
  } as const;
}

export type AppNames = ReturnType<typeof appNames>;

/** The artifact a build writes: always one ZIP, so its SHA-256 is the release's identity. */
export const ARTIFACT_NAME = "artifact.zip";

/** The folder one deployment's build writes its artifact to: `<org>/<app>/<deploymentId>`. */
export const artifactPath = (names: Pick<AppNames, "artifactPrefix">, deploymentId: string): string => `${names.artifactPrefix}${deploymentId}`;

/** The key of one deployment's artifact. */
export const artifactKey = (names: Pick<AppNames, "artifactPrefix">, deploymentId: string): string => `${artifactPath(names, deploymentId)}/${ARTIFACT_NAME}`;

const STAGE = /^[a-z][a-z0-9-]{0,19}$/;
/** `bulkhead-app-…` and `bulkhead-deploy-…` name per-app and per-org resources, never a stage's. */
const RESERVED_STAGES: ReadonlySet<string> = new Set(["app", "deploy"]);

/** Names of the platform's own resources in one stage. Deterministic, so documents can be reviewed before deploy. */
export function platformNames(input: { stage: string; account: string; region: string }) {
  const { stage } = input;
  if (!STAGE.test(stage) || RESERVED_STAGES.has(stage)) {
    throw new Error(`stage must match ${STAGE} and not be one of ${[...RESERVED_STAGES].join(", ")}, got "${stage}"`);
  }
  const prefix = `bulkhead-${stage}`;
  const slug = (routeId: string) => routeId.replaceAll(".", "-");
  return {
    stage,
    table: prefix,
    artifactBucket: bounded(`${prefix}-artifacts-${input.account}-${input.region}`, 63, "bucket name"),
    deployerRole: bounded(`${prefix}-deployer`, MAX_ROLE_NAME, "role name"),
    tenantDataRole: bounded(`${prefix}-tenant-data`, MAX_ROLE_NAME, "role name"),
    /** Assumed by the deployer per deployment to read that deployment's artifact (iam/artifact-reader.ts). */
    artifactReaderRole: bounded(`${prefix}-artifact-reader`, MAX_ROLE_NAME, "role name"),
    functionName: (routeId: string) => bounded(`${prefix}-${slug(routeId)}`, MAX_FUNCTION_NAME, "function name"),
    functionRole: (routeId: string) => bounded(`${prefix}-${slug(routeId)}`, MAX_ROLE_NAME, "role name"),
    /** Lambda's conventional group, outside `/bulkhead/`, which is the per-app namespace. */
    functionLogGroup: (routeId: string) => `/aws/lambda/${prefix}-${slug(routeId)}`,
    /** Workflow task functions (workflows/tasks.ts): `task-` keeps them apart from route functions. */
    taskFunction: (taskId: string) => bounded(`${prefix}-task-${slug(taskId)}`, MAX_FUNCTION_NAME, "function name"),
    taskRole: (taskId: string) => bounded(`${prefix}-task-${slug(taskId)}`, MAX_ROLE_NAME, "role name"),
    taskLogGroup: (taskId: string) => `/aws/lambda/${prefix}-task-${slug(taskId)}`,
    /** Scheduled jobs (iam/jobs.ts): `job-` keeps them apart from routes and tasks. */
    jobFunction: (jobId: string) => bounded(`${prefix}-job-${slug(jobId)}`, MAX_FUNCTION_NAME, "function name"),
    jobRole: (jobId: string) => bounded(`${prefix}-job-${slug(jobId)}`, MAX_ROLE_NAME, "role name"),
    jobLogGroup: (jobId: string) => `/aws/lambda/${prefix}-job-${slug(jobId)}`,
    /** Named, not generated: functions link its ARN without waiting on its definition. */
    deploymentStateMachine: `${prefix}-deployment`,
    deploymentMachineRole: bounded(`${prefix}-deployment-machine`, MAX_ROLE_NAME, "role name"),
    /** The CodeBuild project every app's build runs in, each under its own role (ServiceRoleOverride). */
    buildProject: `${prefix}-build`,
    buildProjectRole: bounded(`${prefix}-build-project`, MAX_ROLE_NAME, "role name"),
    /** The permissions boundary every per-app build role is created with. */
    buildRoleBoundary: `${prefix}-build-boundary`,
  };
}

export type PlatformNames = ReturnType<typeof platformNames>;
