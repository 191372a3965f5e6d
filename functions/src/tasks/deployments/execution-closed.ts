import * as z from "zod/mini";
import { executionClosed } from "@bulkhead/core/deployments/steps/endings";
import { generatedIdSchema, orgSlugSchema } from "@bulkhead/core/ids";
import { deploymentIdSchema } from "@bulkhead/core/deployments/schemas";
import { defineTask } from "@bulkhead/core/workflows/task-handler";

/** EventBridge's "Step Functions Execution Status Change" event; the offline executor sends the same shape. */
const ids = z.object({ org: orgSlugSchema(), appId: generatedIdSchema(), deploymentId: deploymentIdSchema() });
const executionInput = z.pipe(z.string(), z.transform((text: string, ctx) => {
  let parsed;
  try {
    parsed = ids.safeParse(JSON.parse(text));
  } catch {
    parsed = undefined;
  }
  if (!parsed?.success) {
    ctx.issues.push({ code: "custom", message: "execution input is not a deployment's", input: text });
    return z.NEVER;
  }
  return parsed.data;
}));
const event = z.pipe(
  z.object({
    detail: z.object({ status: z.enum(["ABORTED", "TIMED_OUT", "FAILED"]), name: deploymentIdSchema(), input: executionInput }),
  }),
  z.transform(({ detail }) => ({ ...detail.input, status: detail.status, name: detail.name })),
);

export const handler = defineTask("deployments.execution-closed", event, async ({ status, name, ...ids }) => {
  if (name !== ids.deploymentId) return { recorded: false };
  return executionClosed(ids, status);
});
