import { monotonicFactory } from "ulid";

/**
 * Deployment ids are ULIDs: 48 bits of time then 80 random bits in Crockford base32, so the sort
 * key `DEPLOY#<id>` orders an app's deployments by creation, and a reverse Query lists newest first.
 * They are valid Step Functions execution names, which is what the deployment's execution is named.
 */
export const DEPLOYMENT_ID = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;

const nextUlid = monotonicFactory();
export const newDeploymentId = (now = Date.now()): string => nextUlid(now);
