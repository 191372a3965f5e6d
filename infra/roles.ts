import { functionAccess } from "../packages/core/src/iam/platform.ts";
import { tenantDataRole } from "../packages/core/src/iam/tenant-data.ts";
import { roleArgs } from "./role-args.ts";
import type { RouteFunction } from "./functions.ts";
import type { AuditSequencer } from "./audit.ts";
import type { ScheduledJobs, SourceUploadNotifications } from "./jobs.ts";
import type { Stage } from "./stage.ts";
import type { DeploymentWorkflow } from "./workflows.ts";

/**
 * The tenant data role (layer 4), trusted by the org-scoped route functions' roles, the
 * workflow tasks that read tenant data, the KEK-rotation job, the deployment sweep, the source-uploaded handler and the audit
 * sequencer, only. The deployer role is the apply task's own role (infra/workflows.ts); per-app runtime/build roles are created per app at runtime.
 */
export function platformRoles(
  stage: Stage, functions: RouteFunction[], workflow: DeploymentWorkflow, jobs: ScheduledJobs, uploads: SourceUploadNotifications, sequencer: AuditSequencer,
) {
  const orgScoped = functions.filter((f) => functionAccess(f.route).tenantData);
  const tenantTasks = workflow.taskFunctions.filter((t) => t.task.needs.includes("table"));
  const callerRoleArns = [
    ...orgScoped.map((f) => f.roleArn), ...tenantTasks.map((t) => t.role.arn),
    jobs.kekRotation.role.arn, jobs.deploymentSweep.role.arn, uploads.sourceUploaded.role.arn, sequencer.roleArn,
  ];
  const tenantData = new aws.iam.Role(
    "TenantDataRole",
    roleArgs(tenantDataRole({ location: stage.location, platform: stage.platform, callerRoleArns })),
    // IAM refuses a trust policy naming a role that does not exist yet.
    { dependsOn: [...orgScoped.map((f) => f.fn), ...tenantTasks.map((t) => t.fn), jobs.kekRotation.cron, jobs.deploymentSweep.cron, uploads.sourceUploaded.notification, sequencer.subscriber] },
  );
  return { tenantData };
}
