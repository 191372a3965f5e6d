import * as z from "zod/mini";

/**
 * The knobs of the deployment state machine. The definition is a function of these, so the
 * cloud gets production values while tests and `npm start` can shorten what they must; the
 * production defaults are what infra deploys.
 */
const int = (min: number, max: number) => z.int().check(z.minimum(min), z.maximum(max));

export const workflowOptionsSchema = z.strictObject({
  retry: z.prefault(z.strictObject({
    intervalSeconds: z._default(int(1, 300), 2),
    maxAttempts: z._default(int(0, 10), 6),
    backoffRate: z._default(z.number().check(z.minimum(1), z.maximum(10)), 2),
    maxDelaySeconds: z._default(int(1, 3600), 60),
  }), {}),
  timeouts: z.prefault(z.strictObject({
    /** Record-keeping steps: a few DynamoDB calls. */
    stepSeconds: z._default(int(1, 900), 30),
    /** PrepareBuild may create the app's build role in IAM. */
    prepareBuildSeconds: z._default(int(1, 900), 60),
    /** AssumeRole, the grant checks and the target's update; must end within the 900 s session. */
    applySeconds: z._default(int(1, 840), 600),
    /** Caps a whole execution; default: the sum of the steps' own limits plus retries' slack. */
    executionSeconds: z.optional(int(60, 31_536_000)),
  }), {}),
  build: z.prefault(z.strictObject({
    /** CodeBuild's own limits: 5–2160 minutes of build, 5–480 minutes queued. */
    timeoutMinutes: z._default(int(5, 2160), 30),
    queuedTimeoutMinutes: z._default(int(5, 480), 30),
    /** A new IAM role is not assumable everywhere at once. */
    rolePropagationSeconds: z._default(int(0, 120), 15),
  }), {}),
});

export type WorkflowOptions = z.output<typeof workflowOptionsSchema>;
export type WorkflowOptionsInput = z.input<typeof workflowOptionsSchema>;

export function workflowOptions(input: WorkflowOptionsInput = {}): WorkflowOptions {
  const options = workflowOptionsSchema.parse(input);
  const execution = options.timeouts.executionSeconds;
  if (execution !== undefined && execution <= runBuildTimeoutSeconds(options)) {
    throw new RangeError(`timeouts.executionSeconds (${execution}) must exceed the build's own limit (${runBuildTimeoutSeconds(options)} s)`);
  }
  return options;
}

export const PRODUCTION_WORKFLOW_OPTIONS: WorkflowOptions = workflowOptions();

/** RunBuild waits for CodeBuild's queue and build limits, plus time to provision and upload. */
export const runBuildTimeoutSeconds = (o: WorkflowOptions): number =>
  (o.build.timeoutMinutes + o.build.queuedTimeoutMinutes) * 60 + 300;

export function executionTimeoutSeconds(o: WorkflowOptions): number {
  if (o.timeouts.executionSeconds) return o.timeouts.executionSeconds;
  const steps = 6 * o.timeouts.stepSeconds + o.timeouts.prepareBuildSeconds + o.timeouts.applySeconds;
  return runBuildTimeoutSeconds(o) + steps + o.build.rolePropagationSeconds + 900;
}
