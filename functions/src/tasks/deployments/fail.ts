import * as z from "zod/mini";
import { recordFailure } from "@bulkhead/core/deployments/steps/endings";
import { defineTask, deploymentIds } from "@bulkhead/core/workflows/task-handler";

const caught = z.object({ Error: z.string(), Cause: z.optional(z.unknown()) });

/** Receives the whole state (a Catch may or may not have added each field), and reads only these. */
const input = z.extend(deploymentIds, {
  failure: z.optional(caught),
  cleanupFailure: z.optional(caught),
  build: z.optional(z.object({ logGroup: z.optional(z.string()), logStreamPrefix: z.optional(z.string()) })),
});

export const handler = defineTask("deployments.fail", input, recordFailure);
