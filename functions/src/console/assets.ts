import { join } from "node:path";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { consoleResponse, loadAssets } from "@bulkhead/console/serve";
import { CONSOLE_BUNDLE_DIR } from "@bulkhead/console/settings";
import { baseDomain, consoleSettings } from "@bulkhead/core/config";
import { problemResponse } from "@bulkhead/core/http/problem-response";
import { notFound } from "@bulkhead/core/errors";
import { parseHost } from "@bulkhead/core/tenancy";

/** Where the built console is: copied beside the bundle when deployed, the offline build otherwise. */
const assetsDir = () => process.env.BULKHEAD_CONSOLE_ASSETS ?? join(process.env.LAMBDA_TASK_ROOT ?? ".", CONSOLE_BUNDLE_DIR);

let assets: ReturnType<typeof loadAssets> | undefined;

/**
 * GET /console and /console/{proxy+}: the console's static files, on org hosts only (the page then
 * calls the same API routes as curl, on the same origin). No org lookup: the files are the same for
 * every org, and the API refuses an unknown or suspended org on the page's first call.
 */
export async function handler(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  const requestId = event.requestContext.requestId;
  if (parseHost(event.requestContext.domainName, baseDomain()).kind !== "org") {
    return problemResponse(notFound("The console is served on org hosts only."), requestId);
  }
  assets ??= loadAssets(assetsDir());
  return consoleResponse(event.requestContext.http.method, event.rawPath, assets, consoleSettings(), requestId);
}
