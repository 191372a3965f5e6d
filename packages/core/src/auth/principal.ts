import * as z from "zod/mini";
import { generatedIdSchema, nameSchema, orgSlugSchema } from "../ids.ts";
import { lazySchema } from "../lazy-schema.ts";

export const MEMBER_ROLES = ["viewer", "developer", "admin", "owner"] as const;
export type MemberRole = (typeof MEMBER_ROLES)[number];
export const PLATFORM_ROLES = ["operator", "platform-admin"] as const;
export type PlatformRole = (typeof PLATFORM_ROLES)[number];

export type Principal =
  | { kind: "member"; sub: string; org: string; role: MemberRole }
  | { kind: "platform"; sub: string; role: PlatformRole }
  | { kind: "runtime"; sub: string; org: string; app: string };

/** A claim that must not be present: each principal kind carries exactly its own claims. */
const absent = lazySchema(() => z.optional(z.never()));

// Built when the first token is verified, not at import (lazy-schema.ts).
const member = lazySchema(() => z.object({ sub: nameSchema(), org: orgSlugSchema(), role: z.enum(MEMBER_ROLES), platform: absent(), app: absent() }));
const platform = lazySchema(() => z.object({ sub: nameSchema(), platform: z.literal(true), role: z.enum(PLATFORM_ROLES), org: absent(), app: absent() }));
const runtime = lazySchema(() => z.object({ sub: nameSchema(), org: orgSlugSchema(), role: z.literal("runtime"), app: generatedIdSchema(), platform: absent() }));

/** Maps verified claims to exactly one kind of principal, or undefined when they fit none. */
export function principalFromClaims(claims: Record<string, unknown>): Principal | undefined {
  const asMember = member().safeParse(claims);
  if (asMember.success) return { kind: "member", sub: asMember.data.sub, org: asMember.data.org, role: asMember.data.role };
  const asPlatform = platform().safeParse(claims);
  if (asPlatform.success) return { kind: "platform", sub: asPlatform.data.sub, role: asPlatform.data.role };
  const asRuntime = runtime().safeParse(claims);
  if (asRuntime.success) return { kind: "runtime", sub: asRuntime.data.sub, org: asRuntime.data.org, app: asRuntime.data.app };
  return undefined;
}

export const roleRank = (role: MemberRole): number => MEMBER_ROLES.indexOf(role);

/** The app a runtime principal acts for. Anything else reaching a runtime route is a bug: refuse. */
export function runtimeApp(principal: Principal | undefined): string {
  if (principal?.kind !== "runtime") throw new Error("runtime route reached without a runtime principal");
  return principal.app;
}
