import { isOrgSlug } from "./ids.ts";

export type HostTenancy =
  | { kind: "platform" }
  | { kind: "org"; org: string }
  | { kind: "invalid"; reason: string };

/**
 * Reads the tenant from the hostname API Gateway matched (`requestContext.domainName`), which a
 * client cannot change the way it can change `Host` or `X-Forwarded-Host`. The apex is the
 * platform host; an org host is exactly one lower-case, non-reserved label above it.
 */
export function parseHost(domainName: string | undefined, baseDomain: string): HostTenancy {
  if (!domainName) return { kind: "invalid", reason: "no domain name" };
  if (domainName === baseDomain) return { kind: "platform" };
  const suffix = `.${baseDomain}`;
  if (!domainName.endsWith(suffix)) return { kind: "invalid", reason: "outside base domain" };
  const label = domainName.slice(0, -suffix.length);
  if (label.includes(".")) return { kind: "invalid", reason: "more than one label" };
  if (!isOrgSlug(label)) return { kind: "invalid", reason: "malformed or reserved label" };
  return { kind: "org", org: label };
}
