import { parseArgs } from "node:util";
import { policyReport } from "@bulkhead/core/iam/report";

const USAGE = `usage: npm run policies -- --org <slug> --app <app> [--account 123456789012] [--region us-east-1]
       [--stage production] [--target-account <id>] [--target-region <region>] [--external-id <id>]`;

/** Example account: the CLI prints documents for review; nothing here talks to AWS. */
const EXAMPLE_ACCOUNT = "123456789012";

function main(argv: string[]): number {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        org: { type: "string" },
        app: { type: "string" },
        account: { type: "string", default: EXAMPLE_ACCOUNT },
        region: { type: "string", default: "us-east-1" },
        stage: { type: "string", default: "production" },
        "target-account": { type: "string" },
        "target-region": { type: "string" },
        "external-id": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }));
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (!values.org || !values.app) {
    console.error(USAGE);
    return 2;
  }
  try {
    const report = policyReport({
      org: values.org,
      app: values.app,
      account: values.account,
      region: values.region,
      stage: values.stage,
      targetAccount: values["target-account"],
      targetRegion: values["target-region"],
      externalId: values["external-id"],
    });
    console.log(JSON.stringify(report, null, 2));
    return 0;
  } catch (error) {
    console.error((error as Error).message);
    return 2;
  }
}

process.exitCode = main(process.argv.slice(2));
