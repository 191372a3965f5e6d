import { Logger } from "@aws-lambda-powertools/logger";

/** One logger per process. Request keys are appended per request and reset after it. */
export const logger = new Logger({ serviceName: "bulkhead" });
