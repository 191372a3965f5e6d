import { parseArgs } from "node:util";
import { SOURCE_MAX_BYTES_VARIABLE } from "@bulkhead/core/sources/config";
import { readSourceMaxBytes } from "@bulkhead/core/stage-settings";
import { JavaMissing } from "../dynamodb.ts";
import { startOffline } from "../runtime.ts";

const { values } = parseArgs({ options: { memory: { type: "boolean", default: false } } });
const dataDir = process.env.BULKHEAD_DATA_DIR ?? ".bulkhead";
/** The offline stand-in for the rotation job's cron; 0 turns it off. */
const rotationIntervalSeconds = Number(process.env.ROTATION_INTERVAL_SECONDS ?? 3600);
/** The stuck-deployment sweep's: at start, then every this many seconds; 0 turns it off. */
const sweepIntervalSeconds = Number(process.env.SWEEP_INTERVAL_SECONDS ?? 900);
/** The source upload cap, read by the same rule as a stage's. */
const sourceMaxBytes = readSourceMaxBytes(process.env);
if (sourceMaxBytes.problem) {
  console.error(sourceMaxBytes.problem);
  process.exit(2);
}

try {
  const offline = await startOffline({
    dataDir, memory: values.memory, port: Number(process.env.PORT ?? 4000),
    rotationIntervalMs: rotationIntervalSeconds * 1000, sweepIntervalMs: sweepIntervalSeconds * 1000,
    sourceUploads: { maxBytes: sourceMaxBytes.number },
  });
  const { port } = offline;
  const org = `http://acme.localhost:${port}`;
  console.log(`listening on http://localhost:${port}`);
  console.log(`
Data: ${values.memory ? "in memory (throwaway)" : dataDir}. Orgs "acme" and "globex" are seeded.
DynamoDB Local: ${offline.dynamoEndpoint} (table "${offline.config.tableName}").
Console: ${org}/console/ (each org's host; the dev issuer's sign-in form picks org, sub and role).
Object store stand-in (presigned source uploads): ${offline.objectStoreUrl}/${offline.sources.bucket}, at most ${offline.sources.maxBytes} bytes a source (${SOURCE_MAX_BYTES_VARIABLE}).
KEK rotation runs every ${rotationIntervalSeconds || "—"} s (ROTATION_INTERVAL_SECONDS; ROTATION_DAYS=${process.env.ROTATION_DAYS ?? 30}).
Deployments stuck past their workflow's limit are failed at start and every ${sweepIntervalSeconds || "—"} s (SWEEP_INTERVAL_SECONDS).
Try:
  TOKEN=$(npm run -s token -- --org acme --sub alice --role admin)
  curl -s ${org}/v1/org -H "authorization: Bearer $TOKEN"
  curl -s ${org}/v1/apps -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"name":"web"}'
  curl -s ${org}/v1/apps -H "authorization: Bearer $TOKEN"
  # another org's token on acme's host is refused (403):
  curl -s ${org}/v1/apps -H "authorization: Bearer $(npm run -s token -- --org globex --sub bob --role owner)"
  # credentials: stored sealed, listed without values, read back only with the app's runtime token
  APP=<id from the POST above>
  curl -s -X PUT ${org}/v1/apps/$APP/credentials/database-url -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"value":"postgres://u:p@db/app"}'
  curl -s ${org}/v1/apps/$APP/credentials -H "authorization: Bearer $TOKEN"
  curl -s ${org}/v1/runtime/credentials/database-url -H "authorization: Bearer $(npm run -s token -- --org acme --app $APP --runtime)"
  # deploy the sample app: zip, upload through the presigned form, follow the workflow to SUCCEEDED
  APP=$(curl -s ${org}/v1/apps -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"name":"hello","build":{"command":"sh build.sh"}}' | node -pe 'JSON.parse(require("fs").readFileSync(0)).id')
  BULKHEAD_TOKEN=$(npm run -s token -- --org acme --sub alice --role developer) npm run deploy -- --org acme --app $APP --dir examples/hello --ref v1
  curl -s ${org}/v1/apps/$APP/sources -H "authorization: Bearer $TOKEN"
  curl -s ${org}/v1/apps/$APP/deployments -H "authorization: Bearer $TOKEN"
  # KEK rotation: every app now (or as if 40 days had passed), then read the credential again
  curl -s -X POST ${org}/v1/apps/$APP/rotate -H "authorization: Bearer $TOKEN"
  npm run rotate -- --now
  npm run rotate -- --at $(date -u -d '+40 days' +%Y-%m-%dT%H:%M:%SZ)
  # deploy to a customer's account (BYOI): register the target, record its trust (stand-in step), get a Deploy grant approved
  curl -s ${org}/v1/targets -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"name":"prod","kind":"byoi","accountId":"123456789012","deployRoleArn":"arn:aws:iam::123456789012:role/bulkhead-deploy-acme","region":"eu-west-1"}' > target.json
  npm run -s trust -- --target-response target.json
  TARGET=$(node -pe 'require("./target.json").id')
  GRANT=$(curl -s ${org}/v1/grants -H "authorization: Bearer $(npm run -s token -- --platform --sub ops --role operator)" -H 'content-type: application/json' -d "{\\"phase\\":\\"Deploy\\",\\"targetId\\":\\"$TARGET\\",\\"reason\\":\\"release\\",\\"durationSeconds\\":3600}" | node -pe 'JSON.parse(require("fs").readFileSync(0)).id')
  curl -s -X POST ${org}/v1/grants/$GRANT/approve -H "authorization: Bearer $TOKEN"
  curl -s ${org}/v1/apps/$APP/deployments -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d "{\\"source\\":{\\"ref\\":\\"v1\\"},\\"target\\":\\"$TARGET\\"}"
  curl -s -X POST ${org}/v1/grants/$GRANT/revoke -H "authorization: Bearer $TOKEN"   # later deployments to it: FAILED "grant revoked"
  # platform host:
  curl -s http://localhost:${port}/v1/orgs/acme -H "authorization: Bearer $(npm run -s token -- --platform --sub ops --role platform-admin)"
  # the org's audit log (owner/admin): list (and how many records wait to be sequenced), verify, signed heads, export for offline checks
  curl -s ${org}/v1/audit -H "authorization: Bearer $TOKEN"
  curl -s ${org}/v1/audit/verify -H "authorization: Bearer $TOKEN"
  curl -s ${org}/v1/audit/heads -H "authorization: Bearer $TOKEN" > heads.json && node -pe 'require("./heads.json").publicKey.pem' > audit-key.pem
  curl -s ${org}/v1/audit/export -H "authorization: Bearer $TOKEN" > audit.jsonl && npm run -s audit:verify -- audit.jsonl --heads heads.json --public-key audit-key.pem
  curl -s "${org}/v1/audit/proof/inclusion?seq=1" -H "authorization: Bearer $TOKEN"
Ctrl-C stops.`);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await offline.stop();
    process.exit(0);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
} catch (error) {
  if (error instanceof JavaMissing) console.error(error.message);
  else console.error("npm start failed:", error);
  process.exit(1);
}
