import type { MiddlewareObj } from "@middy/core";
import { createTokenVerifier, type TokenVerifier } from "../auth/jwt.ts";
import { principalFromClaims, roleRank, type Principal } from "../auth/principal.ts";
import { authConfig } from "../config.ts";
import { logger } from "../log.ts";
import { problems } from "../problem.ts";
import type { RouteDef } from "../routes.ts";
import type { HostTenancy } from "../tenancy.ts";
import type { ApiRequest } from "./state.ts";

let verify: TokenVerifier | undefined;
/** Principals of cached (hence identical, frozen) claims objects: a repeated token skips parsing. */
const principals = new WeakMap<object, Principal | undefined>();

function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(header ?? "");
  return match?.[1];
}

/**
 * Layer 2, run before any data access: the token's org must be the host's org, then the route's
 * declared access must admit the principal. Returns the reason for a refusal, or undefined.
 */
export function refusal(route: RouteDef, tenancy: HostTenancy, principal: Principal): string | undefined {
  const access = route.access;
  if ("public" in access) return undefined;
  if (principal.kind !== "platform" && (tenancy.kind !== "org" || principal.org !== tenancy.org)) {
    return "token belongs to another organization";
  }
  if ("member" in access) {
    if (principal.kind === "platform") return "platform tokens act on an org only through a grant";
    if (principal.kind !== "member") return "route needs an org member";
    return roleRank(principal.role) >= roleRank(access.member) ? undefined : `route needs role ${access.member}`;
  }
  if ("platform" in access) {
    if (principal.kind !== "platform") return "route needs a platform token";
    return access.platform.includes(principal.role) ? undefined : "platform role not allowed";
  }
  return principal.kind === "runtime" ? undefined : "route needs a runtime token";
}

export const authenticate = (route: RouteDef): MiddlewareObj<any, any, Error, any, any> => ({
  before: async (request: ApiRequest) => {
    if ("public" in route.access) return;
    const token = bearerToken(request.event.headers?.authorization);
    if (!token) throw problems.unauthenticated();
    verify ??= createTokenVerifier(authConfig());
    let claims: Record<string, unknown>;
    try {
      claims = await verify(token);
    } catch (error) {
      logger.warn("token refused", { reason: (error as Error).name, detail: (error as Error).message });
      throw problems.unauthenticated("The bearer token is not valid.");
    }
    if (!principals.has(claims)) principals.set(claims, principalFromClaims(claims));
    const principal = principals.get(claims);
    if (!principal) {
      logger.warn("token refused", { reason: "claims fit no principal kind" });
      throw problems.unauthenticated("The bearer token's claims are not valid.");
    }
    logger.appendKeys({ sub: principal.sub, principal: principal.kind });
    request.context.caller = principal;
    const reason = refusal(route, request.context.tenancy!, principal);
    if (reason) throw problems.forbidden(reason);
    request.context.principal = principal;
  },
});
