import type { AuditTarget } from "../audit/entry.ts";
import type { MemberRole, PlatformRole } from "../auth/principal.ts";
import type { GrantPhase } from "../grants/phases.ts";
import type { SchemaFactory } from "../lazy-schema.ts";

/**
 * How a platform principal (any platform role) is admitted on an org route besides its members:
 * only while the org has an active grant of a phase (one read, in the org's partition), or, on
 * the grant routes themselves, without one. Routes without `vendor` refuse platform tokens.
 */
export type VendorAccess = { readonly underGrant: GrantPhase } | { readonly withoutGrant: true };

/** Who may call a route. Checked after the token's org is matched against the host's org. */
export type Access =
  | { public: true }
  | { member: MemberRole; vendor?: VendorAccess }
  | { platform: readonly PlatformRole[] }
  | { runtime: true }
  /** No JWT: a single-use enrollment token (`Authorization: Enrollment <token>`) consumed by the handler. */
  | { enrollment: true };

export type HostKind = "org" | "platform" | "any";
export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/**
 * What a change's audit record names: from what the change wrote, its ids and decisive fields
 * (never a secret, a token or a value). Declared by every route that changes state.
 */
export type Records = (change: any) => AuditTarget;

type RouteCommon = {
  readonly id: string;
  readonly path: string;
  readonly host: HostKind;
  readonly access: Access;
  readonly summary: string;
  readonly status: number;
  /** Schemas are factories (lazy-schema.ts): a function builds only its own route's, on first use. */
  readonly params?: SchemaFactory;
  readonly query?: SchemaFactory;
  readonly body?: SchemaFactory;
  /** Request headers the handler reads (names in lower case); others pass untouched. */
  readonly headers?: SchemaFactory;
  readonly response?: SchemaFactory;
  /**
   * For a platform-host route that acts on one org: the validated input field (path or body)
   * naming that org, whose audit chain records the route's successful calls.
   */
  readonly auditOrgFrom?: string;
};

/** A route that changes state (any method but GET) must say what its audit record names. */
export type RouteDef = RouteCommon & (
  | { readonly method: "GET"; readonly records?: undefined }
  | { readonly method: Exclude<Method, "GET">; readonly records: Records }
);
