import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import type { S3Event } from "aws-lambda";
import { logger } from "@bulkhead/core/log";
import { recordSourceUploaded } from "@bulkhead/core/sources/uploaded";

/**
 * S3's ObjectCreated notification for the artifact bucket's source ZIPs (offline, the object store
 * stand-in sends the same event): each announced source becomes `uploaded`. Keys arrive
 * URL-encoded, with `+` for spaces, as S3 sends them.
 */
export const handler = middy(async (event: S3Event) => {
  const outcomes = [];
  for (const record of event.Records) {
    outcomes.push(await recordSourceUploaded({
      bucket: record.s3.bucket.name,
      key: decodeURIComponent(record.s3.object.key.replaceAll("+", " ")),
      size: record.s3.object.size,
      eventTime: record.eventTime,
      requestId: record.responseElements?.["x-amz-request-id"],
    }));
  }
  return { outcomes };
}).use(injectLambdaContext(logger, { resetKeys: true, logEvent: false }));
