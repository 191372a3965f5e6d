/**
 * What one org may consume of the capacity every org shares (OWASP API4:2023). Each limit has a
 * default here, the one definition the cloud and `npm start` both use; a platform admin overrides
 * it per org (`PATCH /v1/orgs/{slug}`), and the org record keeps only the overrides, so a changed
 * default reaches every org that did not choose otherwise.
 */
export type OrgLimits = {
  /** The org's sustained request rate (per second) and burst, over all its callers. */
  requestsPerSecond: number;
  requestBurst: number;
  /** The same, per caller (token `sub`): one leaked or runaway token cannot use the org's whole rate. */
  principalRequestsPerSecond: number;
  principalRequestBurst: number;
  /** Deployments that have not ended (queued, building or deploying), at once. */
  concurrentDeployments: number;
  /** Live apps. */
  apps: number;
  /** Credentials of one app, system and user scope together. */
  credentialsPerApp: number;
  /** One credential value, in bytes of UTF-8. */
  credentialValueBytes: number;
};

export type LimitName = keyof OrgLimits;

/** Bounds a limit may be set within: beyond them a value is a mistake, not a choice. */
export const LIMIT_BOUNDS: Record<LimitName, { min: number; max: number }> = {
  requestsPerSecond: { min: 1, max: 10_000 },
  requestBurst: { min: 1, max: 20_000 },
  principalRequestsPerSecond: { min: 1, max: 10_000 },
  principalRequestBurst: { min: 1, max: 20_000 },
  concurrentDeployments: { min: 0, max: 1_000 },
  apps: { min: 0, max: 100_000 },
  credentialsPerApp: { min: 0, max: 100_000 },
  // The envelope and the item must stay well inside DynamoDB's 400 KB item limit.
  credentialValueBytes: { min: 1, max: 32 * 1024 },
};

export const DEFAULT_ORG_LIMITS: Readonly<OrgLimits> = Object.freeze({
  requestsPerSecond: 200,
  requestBurst: 400,
  principalRequestsPerSecond: 100,
  principalRequestBurst: 200,
  concurrentDeployments: 10,
  apps: 500,
  credentialsPerApp: 1_000,
  credentialValueBytes: 32 * 1024,
});

export const LIMIT_NAMES = Object.keys(DEFAULT_ORG_LIMITS) as LimitName[];

/** The limits that hold for an org: its overrides over the defaults. */
export function effectiveLimits(overrides: Partial<OrgLimits> | undefined): OrgLimits {
  return overrides ? { ...DEFAULT_ORG_LIMITS, ...overrides } : DEFAULT_ORG_LIMITS;
}
