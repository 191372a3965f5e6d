import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import { runKeyRotation } from "@bulkhead/core/credentials/rotation/job";
import { keyStore } from "@bulkhead/core/key-stores/select-key-store";
import { logger } from "@bulkhead/core/log";

/**
 * The scheduled KEK-rotation job (a CronV2 target). It reports its counts and logs each app's
 * failure; it does not fail as a whole for one app, since a retry would redo every other app.
 */
export const handler = middy(async () => runKeyRotation(keyStore()))
  .use(injectLambdaContext(logger, { resetKeys: true, logEvent: false }));
