// SST type-checks infra/ only after `sst install` (it needs network): the root tsconfig excludes
// sst.config.ts and infra/, and test/infra-contract.test.ts runs them against recording stand-ins.
import { awsLocation, type AwsLocation } from "../packages/core/src/iam/arn.ts";
import { platformNames, type PlatformNames } from "../packages/core/src/iam/names.ts";
import { readStageSettings, stageNameProblem, type StageSettings } from "../packages/core/src/stage-settings.ts";

/** Everything a stage is configured by: environment variables (infra/README.md) and the AWS account it deploys to. */
export type Stage = StageSettings & {
  location: AwsLocation;
  platform: PlatformNames;
};

export async function loadStage(): Promise<Stage> {
  const { settings, problems } = readStageSettings(process.env);
  if (problems.length) throw new Error(problems.join("; "));
  const [identity, region] = await Promise.all([aws.getCallerIdentity({}), aws.getRegion({})]);
  const location = awsLocation({ account: identity.accountId, region: region.region });
  const where = { account: location.account, region: location.region };
  const stageProblem = stageNameProblem($app.stage, where);
  if (stageProblem) throw new Error(stageProblem);
  return { ...settings, location, platform: platformNames({ stage: $app.stage, ...where }) };
}
