import type { PolicyDocument } from "@bulkhead/core/deployments/ports";

/**
 * A small IAM evaluator for the offline stand-ins: explicit Deny wins, then any Allow, else
 * implicit deny. Action and Resource support `*` and `?` wildcards; conditions are not evaluated,
 * so a statement with a Condition never allows (and still denies). Enough to make the stand-in
 * target refuse what a session policy does not grant; not a replacement for IAM.
 */
const matches = (pattern: string, value: string): boolean =>
  new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`, "i").test(value);

const list = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : value === undefined ? [] : [String(value)]);

export function isAllowed(policy: PolicyDocument, action: string, resource: string): boolean {
  let allowed = false;
  for (const statement of policy.Statement) {
    const actionMatch = list(statement.Action).some((p) => matches(p, action));
    const resourceMatch = list(statement.Resource).some((p) => matches(p, resource));
    if (!actionMatch || !resourceMatch) continue;
    if (statement.Effect === "Deny") return false;
    if (statement.Effect === "Allow" && statement.Condition === undefined) allowed = true;
  }
  return allowed;
}
