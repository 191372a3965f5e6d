import { session } from "./auth.ts";

/** Each org route's least member role, from the route table at build time (packages/console/src/build.ts). */
declare const __MEMBER_ROLES__: Record<string, string>;

const RANK: Record<string, number> = { viewer: 0, developer: 1, admin: 2, owner: 3 };

/** Whether the signed-in member's role admits the route: the page shows no control that would be refused. */
export function can(routeId: string): boolean {
  const need = __MEMBER_ROLES__[routeId];
  const role = session.value?.claims.role;
  return need !== undefined && role !== undefined && role in RANK && RANK[role]! >= RANK[need]!;
}

export const me = () => session.value?.claims.sub;
