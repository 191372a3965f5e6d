import { policyDocument, type PolicyDocument } from "./document.ts";

/**
 * Lambda execution roles trust the Lambda service alone. A function can only be given a role
 * of its own account (creating it needs iam:PassRole there), so no source condition is needed.
 */
export const lambdaTrust = (): PolicyDocument =>
  policyDocument([{ Sid: "LambdaService", Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: ["sts:AssumeRole"] }]);

/** CodeBuild assumes a role on behalf of a project: pin the account and the project (confused deputy). */
export const codeBuildTrust = (account: string, projectArn: string): PolicyDocument =>
  policyDocument([{
    Sid: "CodeBuildForOwnProject",
    Effect: "Allow",
    Principal: { Service: "codebuild.amazonaws.com" },
    Action: ["sts:AssumeRole"],
    Condition: { StringEquals: { "aws:SourceAccount": account }, ArnLike: { "aws:SourceArn": projectArn } },
  }]);
