import { randomBytes } from "node:crypto";
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  UpdateSecretVersionStageCommand,
  type DescribeSecretCommandOutput,
  type SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { isGeneratedId, isOrgSlug } from "../ids.ts";
import { logger } from "../log.ts";
import { accountOf, type DatabaseConnection, type DatabasePasswords } from "./database-passwords.ts";
import { SecretRotationRefused } from "./errors.ts";
import { STAGE } from "../key-stores/key-store.ts";

/**
 * The Secrets Manager rotation protocol for an app's database-connection secret, which lives in
 * the app's credential store as `bulkhead/<org>/<app>/database` (tagged org and app):
 *   createSecret  put a new password as the AWSPENDING version named by the request token;
 *   setSecret     make the database accept it (logging in with the current, else previous one);
 *   testSecret    log in with it;
 *   finishSecret  move AWSCURRENT to it, then take AWSPENDING off it.
 * Every step can be retried with the same token: each first looks at what is already done.
 * When the protocol ends, AWSPENDING is absent (or, after a crash in finishSecret, on the same
 * version as AWSCURRENT, which Secrets Manager treats as finished).
 */

export type RotationStep = "createSecret" | "setSecret" | "testSecret" | "finishSecret";
export type SecretRotationEvent = { SecretId: string; ClientRequestToken: string; Step: RotationStep };

export const databaseSecretName = (org: string, app: string) => `bulkhead/${org}/${app}/database`;
const DATABASE_SECRET = /^bulkhead\/([^/]+)\/([^/]+)\/database$/;

type Deps = {
  secrets: SecretsManagerClient;
  database: DatabasePasswords;
  /** A new password; 256 random bits by default. */
  newPassword?: () => string;
};

/** Only an app's own database secret, named and tagged for the same org and app, is rotated here. */
function assertAppDatabaseSecret(secret: DescribeSecretCommandOutput): { org: string; app: string } {
  const [, org, app] = DATABASE_SECRET.exec(secret.Name ?? "") ?? [];
  const tag = (key: string) => secret.Tags?.find((t) => t.Key === key)?.Value;
  if (!org || !app || !isOrgSlug(org) || !isGeneratedId(app) || tag("org") !== org || tag("app") !== app) {
    throw new SecretRotationRefused("not an app's database-connection secret");
  }
  return { org, app };
}

function parseConnection(text: string | undefined): DatabaseConnection {
  const value = JSON.parse(text ?? "null") as Partial<DatabaseConnection> | null;
  if (!value || typeof value.username !== "string" || typeof value.password !== "string" || typeof value.host !== "string") {
    throw new SecretRotationRefused("the secret does not hold a database connection");
  }
  return value as DatabaseConnection;
}

export async function rotateDatabaseSecret(event: SecretRotationEvent, deps: Deps): Promise<void> {
  const { SecretId, ClientRequestToken: token, Step } = event;
  const sm = deps.secrets;
  const described = await sm.send(new DescribeSecretCommand({ SecretId }));
  const owner = assertAppDatabaseSecret(described);
  const log = { step: Step, secret: described.Name, version: token, ...owner };
  if (!described.RotationEnabled) throw new SecretRotationRefused("rotation is not enabled for this secret");
  const versions = described.VersionIdsToStages ?? {};
  const stages = versions[token];
  if (!stages) throw new SecretRotationRefused("the request token names no version of this secret");
  if (stages.includes(STAGE.current)) {
    // Finished already; a retried finishSecret may still have AWSPENDING to take off.
    if (Step === "finishSecret" && stages.includes(STAGE.pending)) {
      await sm.send(new UpdateSecretVersionStageCommand({ SecretId, VersionStage: STAGE.pending, RemoveFromVersionId: token }));
    }
    logger.info("secret rotation step: version already current", log);
    return;
  }
  if (!stages.includes(STAGE.pending)) throw new SecretRotationRefused("the version is not pending rotation");

  const read = async (which: { VersionStage: string; VersionId?: string }) =>
    parseConnection((await sm.send(new GetSecretValueCommand({ SecretId, ...which }))).SecretString);
  const pending = () => read({ VersionId: token, VersionStage: STAGE.pending });
  const optional = async (which: { VersionStage: string }) => {
    try {
      return await read(which);
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return undefined;
      throw error;
    }
  };

  switch (Step) {
    case "createSecret": {
      const current = await read({ VersionStage: STAGE.current });
      try {
        await pending();
        logger.info("secret rotation step: pending version exists", log);
        return;
      } catch (error) {
        if (!(error instanceof ResourceNotFoundException)) throw error;
      }
      const password = deps.newPassword?.() ?? randomBytes(32).toString("base64url");
      await sm.send(new PutSecretValueCommand({
        SecretId,
        ClientRequestToken: token,
        SecretString: JSON.stringify({ ...current, password }),
        VersionStages: [STAGE.pending],
      }));
      logger.info("secret rotation step: pending version created", log);
      return;
    }
    case "setSecret": {
      const next = await pending();
      if (await deps.database.canLogIn(next)) {
        logger.info("secret rotation step: database already accepts the pending password", log);
        return;
      }
      const current = await read({ VersionStage: STAGE.current });
      if (accountOf(next) !== accountOf(current)) throw new SecretRotationRefused("the pending version names another database account");
      // Log in with the current password, or with the previous one when the database is still
      // on it (a rotation was rolled back after the database had already changed).
      const logins = [async () => current, () => optional({ VersionStage: STAGE.previous })];
      for (const loginWith of logins) {
        const login = await loginWith();
        if (login && accountOf(login) === accountOf(next) && (await deps.database.canLogIn(login))) {
          await deps.database.setPassword(login, next);
          logger.info("secret rotation step: database password set", log);
          return;
        }
      }
      throw new SecretRotationRefused("neither the current nor the previous password logs in");
    }
    case "testSecret": {
      if (!(await deps.database.canLogIn(await pending()))) throw new SecretRotationRefused("the pending password does not log in");
      logger.info("secret rotation step: pending password logs in", log);
      return;
    }
    case "finishSecret": {
      const current = Object.entries(versions).find(([, s]) => s.includes(STAGE.current))?.[0];
      await sm.send(new UpdateSecretVersionStageCommand({ SecretId, VersionStage: STAGE.current, MoveToVersionId: token, RemoveFromVersionId: current }));
      await sm.send(new UpdateSecretVersionStageCommand({ SecretId, VersionStage: STAGE.pending, RemoveFromVersionId: token }));
      logger.info("secret rotation step: version promoted", log);
      return;
    }
    default:
      throw new SecretRotationRefused(`unknown rotation step ${String(Step)}`);
  }
}
