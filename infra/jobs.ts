import { ROTATION_DEFAULTS } from "../packages/core/src/config.ts";
import { DEPLOYMENT_SWEEP_JOB, deploymentSweepJobRole, kekRotationJobRole, KEK_ROTATION_JOB, SOURCE_UPLOADED_JOB, sourceUploadedJobRole } from "../packages/core/src/iam/jobs.ts";
import { FUNCTION_DEFAULTS, ownRole } from "./functions.ts";
import type { LinkName, Links } from "./links.ts";
import type { Stage } from "./stage.ts";
import type { Storage } from "./storage.ts";

/**
 * What the job's code reads through `Resource`: the table's name (the index handle and each
 * org's tenant handle), the tenant data role it assumes per org, and the key store adapter.
 * test/infra-contract.test.ts checks this against the job's bundle, both ways.
 */
const KEK_ROTATION_LINKS: readonly LinkName[] = ["Table", "TenantData", "KeyStore"];

/** The job's source, relative to the repository root (SST resolves handlers from there). */
export const KEK_ROTATION_HANDLER = "functions/src/jobs/rotate-keys.handler";

/** The sweep reads the table and its index only; each deployment is failed through its org's tenant session. */
const DEPLOYMENT_SWEEP_LINKS: readonly LinkName[] = ["Table", "TenantData"];
export const DEPLOYMENT_SWEEP_HANDLER = "functions/src/jobs/sweep-deployments.handler";
/** A stuck deployment is failed within this of passing its workflow's limit (plus the sweep's grace). */
export const DEPLOYMENT_SWEEP_SCHEDULE = "rate(15 minutes)";
/** The source-uploaded handler reads the table's name and assumes the tenant data role per org. */
const SOURCE_UPLOADED_LINKS: readonly LinkName[] = ["Table", "TenantData"];
export const SOURCE_UPLOADED_HANDLER = "functions/src/jobs/source-uploaded.handler";

/**
 * Scheduled jobs, on EventBridge Scheduler. KEK rotation runs daily; it rotates only the apps
 * whose KEK is older than ROTATION_DAYS, and finishes rotations a crash left half-done. The
 * deployment sweep runs every 15 minutes and fails deployments stuck past their workflow's limit.
 */
export function scheduledJobs(stage: Stage, links: Links) {
  const { location, platform } = stage;
  const role = kekRotationJobRole({ location, platform });
  const kekRotation = new sst.aws.CronV2("KekRotation", {
    schedule: "rate(1 day)",
    function: {
      ...FUNCTION_DEFAULTS,
      name: platform.jobFunction(KEK_ROTATION_JOB),
      description: "Rotates app KEKs that are due and re-wraps their DEKs",
      handler: KEK_ROTATION_HANDLER,
      // Lambda's maximum: one run walks every due app; an app left over is due again tomorrow,
      // and its lease expires so the next run takes it over.
      timeout: "15 minutes",
      link: KEK_ROTATION_LINKS.map((name) => links[name]),
      environment: {
        ...FUNCTION_DEFAULTS.environment,
        ...Object.fromEntries(Object.entries(ROTATION_DEFAULTS).map(([name, value]) => [name, String(value)])),
      },
      transform: { role: ownRole(role.name, role) },
    },
  });
  const sweepRole = deploymentSweepJobRole({ location, platform });
  const deploymentSweep = new sst.aws.CronV2("DeploymentSweep", {
    schedule: DEPLOYMENT_SWEEP_SCHEDULE,
    function: {
      ...FUNCTION_DEFAULTS,
      name: platform.jobFunction(DEPLOYMENT_SWEEP_JOB),
      description: "Fails deployments that outlived their workflow's time limit",
      handler: DEPLOYMENT_SWEEP_HANDLER,
      timeout: "5 minutes",
      link: DEPLOYMENT_SWEEP_LINKS.map((name) => links[name]),
      transform: { role: ownRole(sweepRole.name, sweepRole) },
    },
  });
  return { kekRotation: { cron: kekRotation, role }, deploymentSweep: { cron: deploymentSweep, role: sweepRole } };
}

/**
 * The artifact bucket's ObjectCreated notification for source ZIPs (`<org>/<app>/sources/<ref>.zip`,
 * by suffix and the handler's own key check): the handler marks the announced source uploaded.
 * Offline, the object store stand-in invokes the same handler with the same event.
 */
export function sourceUploadNotifications(stage: Stage, links: Links, storage: Storage) {
  const { location, platform } = stage;
  const role = sourceUploadedJobRole({ location, platform });
  const name = platform.jobFunction(SOURCE_UPLOADED_JOB);
  const notification = storage.artifacts.notify({
    notifications: [{
      name: "SourceUploaded",
      events: ["s3:ObjectCreated:*"],
      // S3 filters by prefix and suffix only, and keys start with the org: artifacts
      // (`<org>/<app>/<deployment>/artifact.zip`) also match, and the handler ignores them.
      filterSuffix: ".zip",
      function: {
        ...FUNCTION_DEFAULTS,
        name,
        description: "Marks an announced source uploaded when S3 reports its object",
        handler: SOURCE_UPLOADED_HANDLER,
        timeout: "30 seconds",
        link: SOURCE_UPLOADED_LINKS.map((link) => links[link]),
        transform: { role: ownRole(role.name, role) },
      },
    }],
  });
  return { sourceUploaded: { notification, name, role } };
}

export type SourceUploadNotifications = ReturnType<typeof sourceUploadNotifications>;

export type ScheduledJobs = ReturnType<typeof scheduledJobs>;
