import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * The checks S3 makes on a browser-based upload (POST Object with a SigV4-signed policy), for the
 * object-store stand-in: the credential and signature over the base64 policy, the policy's
 * expiry, every condition against the form's fields, no field the policy does not cover, then,
 * once the file is read, its size against `content-length-range` and its SHA-256 against
 * `x-amz-checksum-sha256`. Each refusal carries S3's status, code and message.
 */
export type S3Refusal = { status: number; code: string; message: string; details?: Record<string, string> };

type Condition = Record<string, string> | [string, ...unknown[]];
export type PostPolicy = { expiration: string; conditions: Condition[] };

/** Form field names are case-insensitive; values are as sent. */
export type FormFields = ReadonlyMap<string, string>;

export type AcceptedForm = { key: string; policy: PostPolicy; sizeRange?: { min: number; max: number }; checksumSha256?: string };

const refuse = (status: number, code: string, message: string, details?: Record<string, string>): { refusal: S3Refusal } =>
  ({ refusal: { status, code, message, ...(details && { details }) } });
const policyRefusal = (why: string) => refuse(403, "AccessDenied", `Invalid according to Policy: ${why}`);

/** Fields S3 never expects a condition for. */
const UNCONDITIONED = new Set(["policy", "x-amz-signature", "file"]);

function signingKey(secret: string, date: string, region: string): Buffer {
  const kDate = createHmac("sha256", `AWS4${secret}`).update(date).digest();
  const kRegion = createHmac("sha256", kDate).update(region).digest();
  const kService = createHmac("sha256", kRegion).update("s3").digest();
  return createHmac("sha256", kService).update("aws4_request").digest();
}

/** The value a `$name` in a condition refers to: the bucket comes from the request, not the form. */
const valueOf = (fields: FormFields, bucket: string, name: string): string | undefined =>
  name.toLowerCase() === "bucket" ? bucket : fields.get(name.toLowerCase());

export function checkPostForm(input: {
  bucket: string;
  fields: FormFields;
  /** Access key id → secret key of the identities the stand-in knows. */
  credentials: Readonly<Record<string, string>>;
  region: string;
  now?: Date;
}): AcceptedForm | { refusal: S3Refusal } {
  const { fields, bucket } = input;
  const key = fields.get("key");
  if (!key) return refuse(400, "InvalidArgument", "Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields.");
  const encodedPolicy = fields.get("policy");
  // Without a policy the POST is anonymous, and the bucket grants anonymous callers nothing.
  if (!encodedPolicy) return refuse(403, "AccessDenied", "Access Denied");
  if (fields.get("x-amz-algorithm") !== "AWS4-HMAC-SHA256") {
    return refuse(400, "InvalidArgument", "POST requires the x-amz-algorithm field to be AWS4-HMAC-SHA256.");
  }
  const [accessKeyId, date, region, service, terminator, ...rest] = (fields.get("x-amz-credential") ?? "").split("/");
  const secret = accessKeyId ? input.credentials[accessKeyId] : undefined;
  if (!secret) return refuse(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.");
  if (fields.has("x-amz-security-token")) return refuse(400, "InvalidToken", "The provided token is malformed or otherwise invalid.");
  const amzDate = fields.get("x-amz-date") ?? "";
  if (!date || !/^\d{8}$/.test(date) || service !== "s3" || terminator !== "aws4_request" || rest.length || !amzDate.startsWith(date)) {
    return refuse(400, "AuthorizationQueryParametersError", "Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".");
  }
  if (region !== input.region) {
    return refuse(400, "AuthorizationQueryParametersError", `Error parsing the X-Amz-Credential parameter; the region '${region}' is wrong; expecting '${input.region}'`);
  }
  const expected = createHmac("sha256", signingKey(secret, date, region)).update(encodedPolicy).digest();
  const given = Buffer.from(fields.get("x-amz-signature") ?? "", "hex");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return refuse(403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your key and signing method.");
  }

  let policy: PostPolicy;
  try {
    policy = JSON.parse(Buffer.from(encodedPolicy, "base64").toString("utf8")) as PostPolicy;
    if (typeof policy.expiration !== "string" || !Array.isArray(policy.conditions)) throw new Error("shape");
  } catch {
    return refuse(400, "InvalidPolicyDocument", "Invalid Policy: Invalid JSON.");
  }
  const expiration = Date.parse(policy.expiration);
  if (Number.isNaN(expiration)) return refuse(400, "InvalidPolicyDocument", "Invalid Policy: Invalid 'expiration' value: '" + policy.expiration + "'");
  if (expiration <= (input.now ?? new Date()).getTime()) return policyRefusal("Policy expired.");

  const covered = new Set<string>();
  let sizeRange: AcceptedForm["sizeRange"];
  for (const condition of policy.conditions) {
    const shown = JSON.stringify(condition).replaceAll(",", ", ");
    if (Array.isArray(condition)) {
      const [operator, ...args] = condition;
      if (operator === "content-length-range") {
        const [min, max] = args.map(Number);
        if (!Number.isInteger(min) || !Number.isInteger(max)) return refuse(400, "InvalidPolicyDocument", `Invalid Policy: Invalid content-length-range: ${shown}`);
        sizeRange = { min: min!, max: max! };
        continue;
      }
      const [reference, expected] = args;
      if ((operator !== "eq" && operator !== "starts-with") || typeof reference !== "string" || !reference.startsWith("$") || typeof expected !== "string") {
        return refuse(400, "InvalidPolicyDocument", `Invalid Policy: Invalid Condition: ${shown}`);
      }
      const name = reference.slice(1);
      covered.add(name.toLowerCase());
      const value = valueOf(fields, bucket, name) ?? "";
      if (operator === "eq" ? value !== expected : !value.startsWith(expected)) return policyRefusal(`Policy Condition failed: ${shown}`);
    } else {
      const entries = Object.entries(condition);
      if (entries.length !== 1) return refuse(400, "InvalidPolicyDocument", `Invalid Policy: Invalid Condition: ${shown}`);
      const [[name, expected]] = entries as [[string, string]];
      covered.add(name.toLowerCase());
      if ((valueOf(fields, bucket, name) ?? "") !== expected) return policyRefusal(`Policy Condition failed: ["eq", "$${name}", ${JSON.stringify(expected)}]`);
    }
  }
  const extra = [...fields.keys()].filter((name) => !UNCONDITIONED.has(name) && !name.startsWith("x-ignore-") && !covered.has(name));
  if (extra.length) return policyRefusal(`Extra input fields: ${extra.join(", ")}`);

  const checksumSha256 = fields.get("x-amz-checksum-sha256");
  const algorithm = fields.get("x-amz-checksum-algorithm");
  if (algorithm !== undefined && algorithm.toUpperCase() !== "SHA256") {
    return refuse(400, "InvalidRequest", "Value for x-amz-checksum-algorithm header is invalid.");
  }
  if (checksumSha256 !== undefined && Buffer.from(checksumSha256, "base64").length !== 32) {
    return refuse(400, "InvalidRequest", "Value for x-amz-checksum-sha256 header is invalid.");
  }
  return { key, policy, sizeRange, checksumSha256 };
}

/** The checks S3 makes once it has the file. */
export function checkPostContent(form: AcceptedForm, size: number, sha256Base64: string): S3Refusal | undefined {
  if (form.sizeRange && size > form.sizeRange.max) {
    return { status: 400, code: "EntityTooLarge", message: "Your proposed upload exceeds the maximum allowed size", details: { ProposedSize: String(size), MaxSizeAllowed: String(form.sizeRange.max) } };
  }
  if (form.sizeRange && size < form.sizeRange.min) {
    return { status: 400, code: "EntityTooSmall", message: "Your proposed upload is smaller than the minimum allowed size", details: { ProposedSize: String(size), MinSizeAllowed: String(form.sizeRange.min) } };
  }
  if (form.checksumSha256 !== undefined && form.checksumSha256 !== sha256Base64) {
    return { status: 400, code: "BadDigest", message: "The SHA256 you specified did not match the calculated checksum." };
  }
  return undefined;
}

const escapeXml = (text: string) => text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

/** S3's error document. */
export function errorXml(refusal: S3Refusal, requestId: string): string {
  const details = Object.entries(refusal.details ?? {}).map(([name, value]) => `<${name}>${escapeXml(value)}</${name}>`).join("");
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${refusal.code}</Code><Message>${escapeXml(refusal.message)}</Message>${details}<RequestId>${requestId}</RequestId><HostId>${requestId}</HostId></Error>`;
}
