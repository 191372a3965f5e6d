import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import { sweepStuckDeployments } from "@bulkhead/core/deployments/sweep";
import { logger } from "@bulkhead/core/log";

/**
 * The scheduled stuck-deployment sweep (a CronV2 target): fails deployments that outlived their
 * workflow's time limit. It reports its counts; one deployment's error does not fail the run.
 */
export const handler = middy(async () => sweepStuckDeployments())
  .use(injectLambdaContext(logger, { resetKeys: true, logEvent: false }));
