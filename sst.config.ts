/// <reference path="./.sst/platform/config.d.ts" />

// SST type-checks this file and infra/ after `sst install`, which needs network. The root
// tsconfig excludes both; test/infra-contract.test.ts runs them offline against stand-ins.
export default $config({
  app(input) {
    return {
      name: "bulkhead",
      home: "aws",
      removal: input?.stage === "production" ? "retain" : "remove",
      protect: input?.stage === "production",
    };
  },
  async run() {
    const { loadStage } = await import("./infra/stage.ts");
    const { storage } = await import("./infra/storage.ts");
    const { auditCheckpointKey, links } = await import("./infra/links.ts");
    const { routeFunctions } = await import("./infra/functions.ts");
    const { deploymentWorkflow } = await import("./infra/workflows.ts");
    const { scheduledJobs, sourceUploadNotifications } = await import("./infra/jobs.ts");
    const { auditSequencer } = await import("./infra/audit.ts");
    const { platformRoles } = await import("./infra/roles.ts");
    const { httpApi } = await import("./infra/api.ts");
    const { consoleFunction } = await import("./infra/console.ts");

    const stage = await loadStage();
    const data = storage(stage);
    const checkpointKey = auditCheckpointKey();
    const linked = links(stage, data, checkpointKey);
    const functions = routeFunctions(stage, linked, checkpointKey);
    const workflow = deploymentWorkflow(stage, linked);
    const jobs = scheduledJobs(stage, linked);
    const uploads = sourceUploadNotifications(stage, linked, data);
    const sequencer = auditSequencer(stage, linked, data, checkpointKey);
    const roles = platformRoles(stage, functions, workflow, jobs, uploads, sequencer);
    const consoleFn = await consoleFunction(stage, linked);
    httpApi(stage, functions, consoleFn);

    return {
      platformHost: `https://${stage.apiDomain}`,
      orgHosts: `https://<org>.${stage.apiDomain}`,
      console: `https://<org>.${stage.apiDomain}/console/`,
      table: data.table.name,
      artifactBucket: data.artifacts.name,
      tenantDataRole: roles.tenantData.arn,
      deployerRole: workflow.taskFunctions.find((t) => t.task.id === "deploys.apply")!.role.arn,
      deploymentStateMachine: workflow.machine.arn,
    };
  },
});
