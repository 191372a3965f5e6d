import type { Condition, Principal, Statement } from "./document.ts";

/**
 * Characters that would turn a tag value into a pattern or a path: `*` and `?` are policy
 * wildcards, `$` opens a policy variable, `#` is the key separator. Org slugs, app references
 * and deployment ids never contain them. Written as `${*}`-style escapes, which policies read as
 * the literal character.
 */
export const UNSAFE_TAG_VALUE_PATTERNS = ["*${*}*", "*${?}*", "*${$}*", "*#*"] as const;

/**
 * Session tags are checked on `sts:TagSession`, which AWS evaluates for every AssumeRole that
 * carries tags: exactly `keys`, each present, and `equal` values where given. An AssumeRole
 * without tags does not need this statement, and its session then matches no tag-conditioned grant.
 */
function tagConditions(keys: readonly string[], equal: Record<string, string>): Condition {
  const condition: Condition = {
    Null: Object.fromEntries(keys.map((key) => [`aws:RequestTag/${key}`, "false"])),
    "ForAllValues:StringEquals": { "aws:TagKeys": [...keys] },
  };
  if (Object.keys(equal).length) condition.StringEquals = Object.fromEntries(Object.entries(equal).map(([k, v]) => [`aws:RequestTag/${k}`, v]));
  return condition;
}

/** For a trust policy: `principal` may tag its sessions with exactly `keys`. */
export const allowTagging = (sid: string, principal: Principal, keys: readonly string[], equal: Record<string, string> = {}): Statement =>
  ({ Sid: sid, Effect: "Allow", Principal: principal, Action: ["sts:TagSession"], Condition: tagConditions(keys, equal) });

/** For a caller's own policy: it may tag sessions of `resources` with exactly `keys`. */
export const tagOnly = (sid: string, resources: readonly string[], keys: readonly string[]): Statement =>
  ({ Sid: sid, Effect: "Allow", Action: ["sts:TagSession"], Resource: resources, Condition: tagConditions(keys, {}) });

/** One statement per key: conditions on several keys in one statement would all have to match. */
export const refuseUnsafeTagValues = (keys: readonly string[]): Statement[] =>
  keys.map((key) => ({
    Sid: `RefuseUnsafe${key[0]!.toUpperCase()}${key.slice(1)}Tag`,
    Effect: "Deny",
    Principal: { AWS: "*" },
    Action: ["sts:TagSession"],
    Condition: { StringLike: { [`aws:RequestTag/${key}`]: [...UNSAFE_TAG_VALUE_PATTERNS] } },
  }));
