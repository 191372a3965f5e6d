// SST type-checks infra/ only after `sst install` (it needs network): the root tsconfig excludes
// sst.config.ts and infra/, and test/infra-contract.test.ts runs them against recording stand-ins.
import { awsLocation, type AwsLocation } from "../packages/core/src/iam/arn.ts";
import { platformNames, type PlatformNames } from "../packages/core/src/iam/names.ts";
import type { ConsoleSettings } from "../packages/console/src/settings.ts";

/** Everything a stage is configured by: environment variables (infra/README.md) and the AWS account it deploys to. */
export type Stage = {
  location: AwsLocation;
  platform: PlatformNames;
  /** `api.<base domain>`: the platform host. Org hosts are `<org>.api.<base domain>`. */
  apiDomain: string;
  /** A Route 53 hosted zone id, when the base domain's zone cannot be found by name. */
  hostedZoneId?: string;
  auth: { issuer: string; audience: string; jwksUri: string };
  console: ConsoleSettings;
  throttle: { rateLimit: number; burstLimit: number };
};

const DOMAIN = /^(?=.{4,200}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

function required(name: string): string {
  const value = process.env[name]?.trim();
  if (!value) throw new Error(`${name} is not set (see infra/README.md)`);
  return value;
}

function httpsUrl(name: string): string {
  const value = required(name);
  if (new URL(value).protocol !== "https:") throw new Error(`${name} must be an https URL`);
  return value;
}

function positive(name: string, fallback: number): number {
  const raw = process.env[name];
  const value = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer`);
  return value;
}

export async function loadStage(): Promise<Stage> {
  const baseDomain = required("BULKHEAD_BASE_DOMAIN").toLowerCase();
  if (!DOMAIN.test(baseDomain)) throw new Error(`BULKHEAD_BASE_DOMAIN is not a domain name: "${baseDomain}"`);
  const [identity, region] = await Promise.all([aws.getCallerIdentity({}), aws.getRegion({})]);
  const location = awsLocation({ account: identity.accountId, region: region.region });
  return {
    location,
    platform: platformNames({ stage: $app.stage, account: location.account, region: location.region }),
    apiDomain: `api.${baseDomain}`,
    hostedZoneId: process.env.BULKHEAD_HOSTED_ZONE_ID?.trim() || undefined,
    auth: {
      issuer: httpsUrl("BULKHEAD_AUTH_ISSUER"),
      audience: required("BULKHEAD_AUTH_AUDIENCE"),
      jwksUri: httpsUrl("BULKHEAD_AUTH_JWKS_URI"),
    },
    console: {
      clientId: required("BULKHEAD_CONSOLE_CLIENT_ID"),
      authorizationEndpoint: httpsUrl("BULKHEAD_AUTH_AUTHORIZATION_ENDPOINT"),
      tokenEndpoint: httpsUrl("BULKHEAD_AUTH_TOKEN_ENDPOINT"),
      scope: process.env.BULKHEAD_CONSOLE_SCOPE?.trim() || "openid",
    },
    throttle: {
      rateLimit: positive("BULKHEAD_THROTTLE_RATE", 200),
      burstLimit: positive("BULKHEAD_THROTTLE_BURST", 400),
    },
  };
}
