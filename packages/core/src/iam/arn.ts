/** Where a document applies: one account in one region. The partition follows from the region. */
export type AwsLocation = { readonly partition: string; readonly account: string; readonly region: string };

const ACCOUNT = /^\d{12}$/;
const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/;

export function awsLocation(input: { account: string; region: string }): AwsLocation {
  if (!ACCOUNT.test(input.account)) throw new Error(`account must be 12 digits, got "${input.account}"`);
  if (!REGION.test(input.region)) throw new Error(`not a region: "${input.region}"`);
  const partition = input.region.startsWith("cn-") ? "aws-cn" : input.region.startsWith("us-gov-") ? "aws-us-gov" : "aws";
  return { partition, account: input.account, region: input.region };
}

/**
 * ARN builders. Each keeps its separator explicit so that a name can never be matched as the
 * prefix of a longer name (`…/web` vs `…/web2`): callers add `/*` or `:*` only after a separator.
 */
export const arn = {
  table: (l: AwsLocation, table: string) => `arn:${l.partition}:dynamodb:${l.region}:${l.account}:table/${table}`,
  tableIndexes: (l: AwsLocation, table: string) => `${arn.table(l, table)}/index/*`,
  /** Every stream the table has had (a stream's ARN names its creation time). */
  tableStreams: (l: AwsLocation, table: string) => `${arn.table(l, table)}/stream/*`,
  tableIndex: (l: AwsLocation, table: string, index: string) => `${arn.table(l, table)}/index/${index}`,
  /** Secrets Manager appends `-` and six random characters: match exactly six, never more. */
  secret: (l: AwsLocation, name: string) => `arn:${l.partition}:secretsmanager:${l.region}:${l.account}:secret:${name}-??????`,
  bucket: (l: AwsLocation, bucket: string) => `arn:${l.partition}:s3:::${bucket}`,
  objects: (l: AwsLocation, bucket: string, prefix: string) => {
    if (!prefix.endsWith("/")) throw new Error(`object prefix must end with "/": ${prefix}`);
    return `arn:${l.partition}:s3:::${bucket}/${prefix}*`;
  },
  /** One object: its key may hold no policy wildcard or variable, so it matches itself alone. */
  object: (l: AwsLocation, bucket: string, key: string) => {
    if (/[*?$]/.test(key)) throw new Error(`object key holds a wildcard: ${key}`);
    return `arn:${l.partition}:s3:::${bucket}/${key}`;
  },
  repository: (l: AwsLocation, name: string) => `arn:${l.partition}:ecr:${l.region}:${l.account}:repository/${name}`,
  logGroup: (l: AwsLocation, name: string) => `arn:${l.partition}:logs:${l.region}:${l.account}:log-group:${name}`,
  /** The group's streams (`…:log-stream:<name>`); `:` cannot occur in a log group name. */
  logStreams: (l: AwsLocation, name: string) => `${arn.logGroup(l, name)}:*`,
  role: (l: AwsLocation, name: string) => `arn:${l.partition}:iam::${l.account}:role/${name}`,
  managedPolicy: (l: AwsLocation, name: string) => `arn:${l.partition}:iam::${l.account}:policy/${name}`,
  lambda: (l: AwsLocation, name: string) => `arn:${l.partition}:lambda:${l.region}:${l.account}:function:${name}`,
  codeBuildProject: (l: AwsLocation, name: string) => `arn:${l.partition}:codebuild:${l.region}:${l.account}:project/${name}`,
  alarm: (l: AwsLocation, name: string) => `arn:${l.partition}:cloudwatch:${l.region}:${l.account}:alarm:${name}`,
  stateMachine: (l: AwsLocation, name: string) => `arn:${l.partition}:states:${l.region}:${l.account}:stateMachine:${name}`,
  /** Every execution of one state machine (`…:execution:<machine>:<execution>`). */
  executions: (l: AwsLocation, machine: string) => `arn:${l.partition}:states:${l.region}:${l.account}:execution:${machine}:*`,
  eventRule: (l: AwsLocation, name: string) => `arn:${l.partition}:events:${l.region}:${l.account}:rule/${name}`,
  /** Roles under an IAM path (`/bulkhead/build/` → `role/bulkhead/build/*`). */
  rolesUnder: (l: AwsLocation, path: string) => {
    if (!/^\/(?:[\w+=,.@-]+\/)+$/.test(path)) throw new Error(`not an IAM path: ${path}`);
    return `arn:${l.partition}:iam::${l.account}:role${path}*`;
  },
};
