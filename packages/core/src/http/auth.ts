import type { MiddlewareObj } from "@middy/core";
import { createTokenVerifier, type TokenVerifier } from "../auth/jwt.ts";
import { principalFromClaims, roleRank, type Principal } from "../auth/principal.ts";
import { authConfig } from "../config.ts";
import { tenantTable } from "../data/tables.ts";
import { forbidden } from "../errors.ts";
import { invalidEnrollmentToken } from "../enrollment/errors.ts";
import { enrollmentTokenFromHeader, hashEnrollmentToken } from "../enrollment/token.ts";
import { vendorAdmission } from "../grants/check.ts";
import type { GrantPhase } from "../grants/phases.ts";
import { logger } from "../log.ts";
import type { RouteDef } from "../routes/types.ts";
import type { HostTenancy } from "../tenancy.ts";
import { problems } from "./problems.ts";
import { chargeRequest } from "./rate-limit.ts";
import { logKeysOf, type ApiRequest } from "./state.ts";

let verify: TokenVerifier | undefined;
/** Principals of cached (hence identical, frozen) claims objects: a repeated token skips parsing. */
const principals = new WeakMap<object, Principal | undefined>();

/**
 * The token after `Bearer `. Its syntax is not scanned here (a regular expression over a token
 * costs more than a cached request): the verifier refuses anything that is not a signed JWT.
 */
function bearerToken(header: string | undefined): string | undefined {
  return header?.startsWith("Bearer ") && header.length > 7 ? header.slice(7) : undefined;
}

/**
 * Layer 2, run before any data access: the token's org must be the host's org, then the route's
 * declared access must admit the principal. Returns the reason for a refusal, or undefined.
 * A platform principal on a route with `vendor` access passes here and still needs the org's
 * grant (`grantToCheck`), which `authenticate` reads before any other data access.
 */
export function refusal(route: RouteDef, tenancy: HostTenancy, principal: Principal): string | undefined {
  const access = route.access;
  if ("public" in access) return undefined;
  if ("enrollment" in access) return "route takes an enrollment token, not a bearer token";
  if (principal.kind !== "platform" && (tenancy.kind !== "org" || principal.org !== tenancy.org)) {
    return "token belongs to another organization";
  }
  if ("member" in access) {
    if (principal.kind === "platform") return access.vendor ? undefined : "this route admits no platform token, grant or not";
    if (principal.kind !== "member") return "route needs an org member";
    return roleRank(principal.role) >= roleRank(access.member) ? undefined : `route needs role ${access.member}`;
  }
  if ("platform" in access) {
    if (principal.kind !== "platform") return "route needs a platform token";
    return access.platform.includes(principal.role) ? undefined : "platform role not allowed";
  }
  return principal.kind === "runtime" ? undefined : "route needs a runtime token";
}

/** The phase whose active grant must admit `principal` on `route`, or undefined when none is needed. */
export function grantToCheck(route: RouteDef, principal: Principal): GrantPhase | undefined {
  const access = route.access;
  if (principal.kind !== "platform" || !("member" in access) || !access.vendor) return undefined;
  return "underGrant" in access.vendor ? access.vendor.underGrant : undefined;
}

/** Enrollment routes: no JWT, only a well-formed token, whose hash the handler consumes. */
function acceptEnrollmentToken(request: ApiRequest): void {
  const token = enrollmentTokenFromHeader(request.event.headers?.authorization);
  if (!token) {
    logger.warn("enrollment refused", { ...logKeysOf(request.context), reason: "missing or malformed enrollment token" });
    throw invalidEnrollmentToken();
  }
  request.context.enrollmentTokenHash = hashEnrollmentToken(token);
}

/** Layer 2 as a middleware; the request's log keys are appended once it is done. */
export const authenticate = (route: RouteDef): MiddlewareObj<any, any, Error, any, any> => ({
  before: async (request: ApiRequest) => {
    await admit(route, request);
    logger.appendKeys(logKeysOf(request.context));
  },
});

async function admit(route: RouteDef, request: ApiRequest): Promise<void> {
  if ("public" in route.access) return;
  if ("enrollment" in route.access) return acceptEnrollmentToken(request);
  const token = bearerToken(request.event.headers?.authorization);
  if (!token) throw problems.unauthenticated();
  verify ??= createTokenVerifier(authConfig());
  let claims: Record<string, unknown>;
  try {
    claims = await verify(token);
  } catch (error) {
    logger.warn("token refused", { ...logKeysOf(request.context), reason: (error as Error).name, detail: (error as Error).message });
    throw problems.unauthenticated("The bearer token is not valid.");
  }
  if (!principals.has(claims)) principals.set(claims, principalFromClaims(claims));
  const principal = principals.get(claims);
  if (!principal) {
    logger.warn("token refused", { ...logKeysOf(request.context), reason: "claims fit no principal kind" });
    throw problems.unauthenticated("The bearer token's claims are not valid.");
  }
  request.context.caller = principal;
  const reason = refusal(route, request.context.tenancy!, principal);
  if (reason) throw forbidden(reason);
  if (request.context.org) {
    // Usually settled from this instance's allowance, with nothing to await.
    const charging = chargeRequest(request.context.org, principal);
    if (charging) await charging;
  }
  const phase = grantToCheck(route, principal);
  if (phase) {
    // Platform principals only: one consistent read in the org's partition, before the handler.
    const admission = await vendorAdmission(tenantTable(request.context.org!.slug), phase);
    if (!admission.admitted) throw forbidden(`Platform tokens act here only under an active ${phase} grant: ${admission.reason}.`);
    request.context.vendorGrant = { phase, grantId: admission.grantId };
  }
  request.context.principal = principal;
}
