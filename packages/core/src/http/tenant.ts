import type { MiddlewareObj } from "@middy/core";
import { baseDomain } from "../config.ts";
import { logger } from "../log.ts";
import { lookupOrg } from "../orgs/index.ts";
import type { RouteDef } from "../routes/types.ts";
import { parseHost } from "../tenancy.ts";
import { problems } from "./problems.ts";
import type { ApiRequest } from "./state.ts";

function refuse(host: string | undefined, reason: string, problem = problems.unknownHost()): never {
  logger.warn("tenant refused", { host, reason });
  throw problem;
}

/**
 * Layer 1: the org comes from the hostname API Gateway matched, never from a header, the path,
 * the query or the body. There is no default org: anything unresolved is refused here.
 */
export const tenant = (route: RouteDef): MiddlewareObj<any, any, Error, any, any> => ({
  before: async (request: ApiRequest) => {
    const host = request.event.requestContext?.domainName;
    const tenancy = parseHost(host, baseDomain());
    request.context.tenancy = tenancy;
    if (tenancy.kind === "invalid") return refuse(host, tenancy.reason);
    if (route.host === "platform" && tenancy.kind !== "platform") throw problems.routeNotFound();
    if (route.host === "org" && tenancy.kind !== "org") throw problems.routeNotFound();
    if (tenancy.kind !== "org") return;

    const org = await lookupOrg(tenancy.org);
    if (!org) return refuse(host, "unknown org");
    if (org.status !== "active") return refuse(host, "org suspended", problems.orgSuspended());
    request.context.org = org;
  },
});
