import { describe, expect, it } from "vitest";
import { handler as recordArtifact } from "../functions/src/tasks/builds/record.ts";
import { handler as prepareBuild } from "../functions/src/tasks/builds/prepare.ts";
import { handler as executionClosed } from "../functions/src/tasks/deployments/execution-closed.ts";
import { handler as recordSuccess } from "../functions/src/tasks/deployments/succeed.ts";
import { handler as applyRelease } from "../functions/src/tasks/deploys/apply.ts";
import { lambdaContext } from "../packages/local/src/lambda-context.ts";
import { codeBuildStandIn } from "../packages/local/src/standins/codebuild.ts";

/**
 * The task handlers' input schemas (zod/mini): what the state machine may pass each step, and the
 * named error anything else ends with. None of these cases reaches the table or an AWS client.
 */
const context = lambdaContext("bulkhead-offline-test", "request-1");
const ids = { org: "acme", appId: "a".repeat(26), deploymentId: "01J9Z6W0C8M3Q9N6R2B7T4V5X1" };
const refused = { name: "Bulkhead.InvalidInput" };

describe("task input", () => {
  it("refuses missing ids, bad digests, non-integer limits and a bad time with Bulkhead.InvalidInput", async () => {
    await expect(applyRelease({ ...ids, org: "", artifactLocation: "x", artifactSha256: "0".repeat(64) }, context)).rejects.toMatchObject(refused);
    await expect(applyRelease({ ...ids, artifactLocation: "x", artifactSha256: "0".repeat(63) }, context)).rejects.toMatchObject(refused);
    await expect(recordArtifact({ ...ids, artifactLocation: "x", artifactSha256: "F".repeat(64), logGroup: "", logStreamPrefix: "p" }, context))
      .rejects.toMatchObject(refused);
    await expect(prepareBuild({ ...ids, timeoutMinutes: 1.5, queuedTimeoutMinutes: 5 }, context)).rejects.toMatchObject(refused);
    await expect(prepareBuild({ ...ids, timeoutMinutes: 0, queuedTimeoutMinutes: 5 }, context)).rejects.toMatchObject(refused);
    await expect(recordSuccess({ ...ids, releaseId: "r", appliedAt: "yesterday" }, context)).rejects.toMatchObject(refused);
  });

  it("execution-closed accepts EventBridge's event only for a deployment's execution, and acts only on its own name", async () => {
    const event = (status: string, input: string, name = ids.deploymentId) => ({ detail: { status, name, input } });
    await expect(executionClosed(event("FAILED", "not json"), context)).rejects.toMatchObject(refused);
    await expect(executionClosed(event("FAILED", JSON.stringify({ ...ids, org: "ORG#x" })), context)).rejects.toMatchObject(refused);
    await expect(executionClosed(event("SUCCEEDED", JSON.stringify(ids)), context)).rejects.toMatchObject(refused);
    // Another execution's name with this deployment's input: nothing is done.
    expect(await executionClosed(event("ABORTED", JSON.stringify(ids), "01J9Z6W0C8M3Q9N6R2B7T4V5X2"), context)).toEqual({ recorded: false });
  });

  it("the CodeBuild stand-in names the first issue of a refused request in English", async () => {
    const codeBuild = codeBuildStandIn({ store: { root: "/nonexistent", path: () => "/nonexistent" }, logs: { streamFile: () => "/nonexistent", tail: async () => undefined }, sandboxRoot: "/nonexistent" });
    await expect(codeBuild.startBuildSync({ ProjectName: "p" })).rejects.toThrow(/^invalid StartBuild request: Invalid input: expected string, received undefined$/);
  });
});
