import { BatchGetBuildsCommand, CodeBuildClient, ListBuildsForProjectCommand, StopBuildCommand } from "@aws-sdk/client-codebuild";
import type { BuildEnvironmentPort } from "../ports.ts";

/**
 * CodeBuild discards a build's environment when the build ends; what can outlive a workflow is a
 * build still running after its task timed out or its execution was stopped. Destroying the
 * environment means stopping any such build of this deployment (found by the deployment id the
 * build carries in its environment, among the project's most recent builds).
 */
export function codeBuildEnvironments(client = new CodeBuildClient({})): BuildEnvironmentPort {
  return {
    async destroy({ projectName, deploymentId }) {
      const { ids = [] } = await client.send(new ListBuildsForProjectCommand({ projectName, sortOrder: "DESCENDING" }));
      if (ids.length === 0) return { destroyed: 0 };
      const { builds = [] } = await client.send(new BatchGetBuildsCommand({ ids: ids.slice(0, 100) }));
      const running = builds.filter((build) =>
        build.buildStatus === "IN_PROGRESS" &&
        build.environment?.environmentVariables?.some((v) => v.name === "BULKHEAD_DEPLOYMENT" && v.value === deploymentId));
      for (const build of running) await client.send(new StopBuildCommand({ id: build.id! }));
      return { destroyed: running.length };
    },
  };
}
