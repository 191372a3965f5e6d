import middy from "@middy/core";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import type { Context } from "aws-lambda";
import * as z from "zod/mini";
import en from "zod/v4/locales/en.js";
import { logger } from "../log.ts";
import { asTaskError, TASK_ERRORS, taskError, TaskError } from "./errors.ts";
import type { TaskId } from "./tasks.ts";

// zod/mini ships without messages; the refused-input log names each issue in English.
z.config(en());

/**
 * Wraps a workflow task the way defineHandler wraps a route: the Powertools logger with the
 * deployment's keys, input validated with zod/mini, and every error turned into a named TaskError
 * so Retry and Catch match on a stable name. The original error is logged here; only the
 * TaskError's user-facing message travels on into the execution history.
 */
export function defineTask<S extends z.ZodMiniType, R extends object>(
  id: TaskId,
  input: S,
  run: (input: z.output<S>) => Promise<R>,
) {
  return middy<unknown, R, Error, Context>()
    // The event is never logged, whatever POWERTOOLS_LOGGER_LOG_EVENT says.
    .use(injectLambdaContext(logger, { resetKeys: true, logEvent: false }))
    .handler(async (event) => {
      logger.appendKeys({ task: id });
      const parsed = input.safeParse(event);
      if (!parsed.success) {
        logger.error("task input refused", { issues: parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })) });
        throw taskError("invalidInput", `${id}: the workflow passed input this step does not accept`);
      }
      const ids = parsed.data as { org?: string; appId?: string; deploymentId?: string };
      logger.appendKeys({ org: ids.org, app: ids.appId, deployment: ids.deploymentId });
      try {
        return await run(parsed.data);
      } catch (error) {
        const mapped = asTaskError(error, id);
        if (mapped.name === TASK_ERRORS.internal || mapped !== error) {
          logger.error("task failed", { error: error as Error, errorName: mapped.name });
        } else {
          logger.warn("task refused", { errorName: mapped.name, reason: mapped.message });
        }
        throw mapped;
      }
    });
}

export { TaskError };

export const nonEmptyString = z.string().check(z.minLength(1));
/** A SHA-256 in hex, as CodeBuild reports an artifact's (either case). */
export const sha256Hex = z.string().check(z.regex(/^[0-9a-fA-F]{64}$/));

/** The ids every deployment task receives; a task adds its own fields with `z.extend`. */
export const deploymentIds = z.object({
  org: nonEmptyString,
  appId: nonEmptyString,
  deploymentId: nonEmptyString,
});
