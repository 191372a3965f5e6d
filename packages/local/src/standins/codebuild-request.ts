import * as z from "zod/mini";
import en from "zod/v4/locales/en.js";

// zod/mini ships without messages; a refused request names its first issue in English, as CodeBuild would.
z.config(en());

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const RESERVED_ENV = /^(?:AWS_|CODEBUILD_)/;
export const PHASE_ORDER = ["install", "pre_build", "build", "post_build"] as const;

const nonEmpty = z.string().check(z.minLength(1));
const minutes = (min: number, max: number) => z.int().check(z.minimum(min), z.maximum(max));

const requestSchema = z.object({
  ProjectName: nonEmpty,
  IdempotencyToken: nonEmpty,
  SourceTypeOverride: z.literal("S3"),
  // As CodeBuild's S3 source: a folder (`bucket/prefix/`) or a ZIP object it extracts (`bucket/key.zip`).
  SourceLocationOverride: z.string().check(z.regex(/^[^/]+\/.+(?:\/|\.zip)$/, "an S3 folder (bucket/prefix/) or ZIP object (bucket/key.zip)")),
  ServiceRoleOverride: z.string().check(z.startsWith("arn:")),
  BuildspecOverride: nonEmpty,
  EnvironmentVariablesOverride: z.array(z.object({
    Name: z.string().check(z.regex(ENV_NAME), z.refine((n) => !RESERVED_ENV.test(n), "reserved prefix")),
    Value: z.string(),
    Type: z.literal("PLAINTEXT"),
  })),
  ArtifactsOverride: z.object({
    Type: z.literal("S3"),
    Location: nonEmpty,
    Path: nonEmpty,
    Name: nonEmpty,
    NamespaceType: z.literal("NONE"),
    Packaging: z.literal("ZIP"),
  }),
  LogsConfigOverride: z.looseObject({
    CloudWatchLogs: z.object({ Status: z.literal("ENABLED"), GroupName: nonEmpty, StreamName: nonEmpty }),
  }),
  TimeoutInMinutesOverride: minutes(5, 2160),
  QueuedTimeoutInMinutesOverride: minutes(5, 480),
});

const buildspecSchema = z.object({
  version: z.union([z.literal(0.2), z.literal("0.2")]),
  phases: z._default(z.partialRecord(z.enum(PHASE_ORDER), z.object({ commands: z.array(z.string()).check(z.minLength(1)) })), {}),
  artifacts: z.object({ files: z.tuple([z.literal("**/*")]), "base-directory": z.optional(z.string()) }),
});

export type StartBuildRequest = z.output<typeof requestSchema>;
export type Buildspec = z.output<typeof buildspecSchema>;

/** Errors named like the ones Step Functions' CodeBuild integration raises. */
export class IntegrationError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/** The StartBuild request and its buildspec, if this stand-in runs them; else CodeBuild's refusal. */
export function parseStartBuild(raw: unknown): { request: StartBuildRequest; buildspec: Buildspec } {
  const parsed = requestSchema.safeParse(raw);
  if (!parsed.success) throw new IntegrationError("CodeBuild.InvalidInputException", `invalid StartBuild request: ${parsed.error.issues[0]?.message}`);
  const request = parsed.data;
  try {
    return { request, buildspec: buildspecSchema.parse(JSON.parse(request.BuildspecOverride)) };
  } catch {
    throw new IntegrationError("CodeBuild.InvalidInputException", "the buildspec is not one this stand-in runs (JSON, phases of commands, artifacts **/*)");
  }
}
