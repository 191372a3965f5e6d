import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { api, get } from "../api.ts";
import { Empty, ErrorBox, useAction, useLoad, When } from "../components.tsx";
import { can } from "../roles.ts";

type Deployment = {
  id: string; status: string; source: { ref: string }; target: { id: string; kind: string }; createdBy: string; createdAt: string;
  timestamps: { queuedAt: string; buildStartedAt?: string; buildFinishedAt?: string; deployStartedAt?: string; finishedAt?: string };
  failureReason?: string; buildLog?: { excerpt: string; truncated: boolean }; release?: { id: string; appliedAt: string };
};

const ACTIVE = ["QUEUED", "BUILDING", "DEPLOYING"];
const STEPS = [
  ["Queued", "queuedAt"], ["Build started", "buildStartedAt"], ["Build finished", "buildFinishedAt"],
  ["Deploy started", "deployStartedAt"], ["Finished", "finishedAt"],
] as const;

/** An app's deployments, read again every two seconds while one is running; start and cancel. */
export function Deployments({ appId }: { appId: string }) {
  const list = useLoad(() => get<{ items: Deployment[] }>(`/v1/apps/${appId}/deployments?limit=20`), [appId]);
  const targets = useLoad(() => get<{ items: { id: string; name: string }[] }>("/v1/targets?limit=100"));
  const action = useAction();
  const ref = useSignal("");
  const target = useSignal("hosted");
  const running = list.data?.items.some((d) => ACTIVE.includes(d.status));
  useEffect(() => {
    if (!running) return;
    const timer = setTimeout(list.reload, 2000);
    return () => clearTimeout(timer);
  }, [list.data]);
  const start = (e: Event) => {
    e.preventDefault();
    const body = { source: { ref: ref.value }, ...(target.value === "hosted" ? {} : { target: target.value }) };
    action.run(() => api("POST", `/v1/apps/${appId}/deployments`, { body, headers: { "idempotency-key": crypto.randomUUID() } }), () => { ref.value = ""; list.reload(); });
  };
  return (
    <div class="card">
      <h2>Deployments</h2>
      <ErrorBox error={list.error} />
      <ErrorBox error={action.error.value} />
      {can("deployments.create") && (
        <form class="inline" onSubmit={start}>
          <label>Source ref <input name="source-ref" required pattern="[A-Za-z0-9][A-Za-z0-9._\-]{0,127}" value={ref.value} onInput={(e) => (ref.value = (e.target as HTMLInputElement).value)} /></label>
          <label>Target
            <select name="target" value={target.value} onChange={(e) => (target.value = (e.target as HTMLSelectElement).value)}>
              <option value="hosted">hosted</option>
              {targets.data?.items.map((t) => <option key={t.id} value={t.id}>{t.name}</option>)}
            </select>
          </label>
          <button type="submit" disabled={action.busy.value}>Deploy</button>
        </form>
      )}
      {list.data && !list.data.items.length && <Empty>No deployments yet.</Empty>}
      {list.data?.items.map((d) => (
        <article key={d.id} class="deployment" data-deployment={d.id} data-status={d.status}>
          <header>
            <span class={`state ${d.status}`}>{d.status}</span> <code>{d.source.ref}</code> → {d.target.kind === "hosted" ? "hosted" : d.target.id}
            <span class="muted"> by {d.createdBy}, <When at={d.createdAt} /></span>
            {ACTIVE.includes(d.status) && can("deployments.cancel") && (
              <button type="button" class="danger" onClick={() => action.run(() => api("POST", `/v1/apps/${appId}/deployments/${d.id}/cancel`), list.reload)}>Cancel</button>
            )}
          </header>
          <ol class="steps">
            {STEPS.map(([label, field]) => (
              <li key={field} class={d.timestamps[field] ? "done" : "todo"}>{label}: <When at={d.timestamps[field]} /></li>
            ))}
          </ol>
          {d.failureReason && <p class="problem" role="status"><strong>Failed:</strong> {d.failureReason}</p>}
          {d.release && <p>Release <code>{d.release.id}</code> applied <When at={d.release.appliedAt} /></p>}
          {d.buildLog && (
            <details open={d.status === "FAILED"}>
              <summary>Build log{d.buildLog.truncated ? " (excerpt)" : ""}</summary>
              <pre class="log">{d.buildLog.excerpt}</pre>
            </details>
          )}
        </article>
      ))}
    </div>
  );
}
