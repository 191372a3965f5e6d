import { z } from "zod";
import { recordFailure } from "@bulkhead/core/deployments/steps";
import { defineTask, deploymentIds } from "@bulkhead/core/workflows/task-handler";

const caught = z.object({ Error: z.string(), Cause: z.unknown().optional() });

/** Receives the whole state (a Catch may or may not have added each field), and reads only these. */
const input = deploymentIds.extend({
  failure: caught.optional(),
  cleanupFailure: caught.optional(),
  build: z.object({ logGroup: z.string().optional(), logStreamPrefix: z.string().optional() }).optional(),
});

export const handler = defineTask("deployments.fail", input, recordFailure);
