import { useSignal } from "@preact/signals";
import { api, get } from "../api.ts";
import { ConfirmButton, Empty, ErrorBox, useAction, useLoad, When } from "../components.tsx";
import { can } from "../roles.ts";
import type { App } from "./apps.tsx";
import { Deployments } from "./deployments.tsx";

type Credential = { name: string; scope: "system" | "user"; sub?: string; description?: string; version: number; updatedAt: string };

/** One app: rename, delete, its KEK and rotation, credentials (metadata only), deployments. */
export function AppPage({ appId }: { appId: string }) {
  const app = useLoad(() => get<App>(`/v1/apps/${appId}`), [appId]);
  const action = useAction();
  const rename = useSignal<string | undefined>(undefined);
  const rotated = useSignal<{ kekVersion: string; kekRotatedAt: string; rewrapped: number } | undefined>(undefined);

  if (app.error) return <section><h1>App</h1><ErrorBox error={app.error} /><a href="#/apps">All apps</a></section>;
  if (!app.data) return <p>Loading…</p>;
  const current = app.data;
  const saveName = (e: Event) => {
    e.preventDefault();
    action.run(() => api("PATCH", `/v1/apps/${appId}`, { body: { name: rename.value } }), () => { rename.value = undefined; app.reload(); });
  };
  return (
    <section aria-labelledby="app-title">
      <p><a href="#/apps">← All apps</a></p>
      <h1 id="app-title">{current.name}</h1>
      <ErrorBox error={action.error.value} />
      <div class="card">
        <dl class="fields">
          <dt>Id</dt><dd><code>{current.id}</code></dd>
          <dt>Created</dt><dd><When at={current.createdAt} /></dd>
          <dt>KEK version</dt><dd data-testid="kek-version"><code>{current.kek?.version ?? "—"}</code></dd>
          <dt>Last KEK rotation</dt><dd data-testid="kek-rotated"><When at={current.kek?.rotatedAt} /></dd>
        </dl>
        {can("apps.update") && (rename.value === undefined
          ? <button type="button" class="secondary" onClick={() => (rename.value = current.name)}>Rename</button>
          : (
            <form class="inline" onSubmit={saveName}>
              <label>Name <input name="rename" required maxLength={100} value={rename.value} onInput={(e) => (rename.value = (e.target as HTMLInputElement).value)} /></label>
              <button type="submit">Save name</button>
              <button type="button" class="secondary" onClick={() => (rename.value = undefined)}>Cancel</button>
            </form>
          ))}
        {can("apps.rotate") && (
          <button type="button" class="secondary" disabled={action.busy.value}
            onClick={() => action.run(async () => (rotated.value = await api("POST", `/v1/apps/${appId}/rotate`)), app.reload)}>Rotate key</button>
        )}
        {rotated.value && <p class="notice">Rotated to {rotated.value.kekVersion}; {rotated.value.rewrapped} data keys re-wrapped.</p>}
        {can("apps.delete") && (
          <ConfirmButton label="Delete app" question={`Delete ${current.name}, its credentials (their key is destroyed) and its deployment records?`}
            confirm="Delete for good" onConfirm={() => action.run(() => api("DELETE", `/v1/apps/${appId}`), () => (location.hash = "#/apps"))} />
        )}
      </div>
      <Credentials appId={appId} />
      <Deployments appId={appId} />
    </section>
  );
}

function Credentials({ appId }: { appId: string }) {
  const list = useLoad(() => get<{ items: Credential[] }>(`/v1/apps/${appId}/credentials?limit=100`), [appId]);
  const action = useAction();
  const name = useSignal("");
  const value = useSignal("");
  const description = useSignal("");
  const submit = (e: Event) => {
    e.preventDefault();
    const body = { value: value.value, ...(description.value ? { description: description.value } : {}) };
    // The value leaves the page once, in this request; the field is cleared whatever the answer.
    const request = api("PUT", `/v1/apps/${appId}/credentials/${encodeURIComponent(name.value)}`, { body });
    value.value = "";
    action.run(() => request, () => { name.value = ""; description.value = ""; list.reload(); });
  };
  return (
    <div class="card">
      <h2>Credentials</h2>
      <p class="hint">Values are write-only: the console never reads one back; only the app's runtime can.</p>
      <ErrorBox error={list.error} />
      <ErrorBox error={action.error.value} />
      {list.data && !list.data.items.length && <Empty>No credentials.</Empty>}
      {!!list.data?.items.length && (
        <table data-testid="credentials">
          <thead><tr><th>Name</th><th>Scope</th><th>Version</th><th>Updated</th><th>Description</th><th /></tr></thead>
          <tbody>
            {list.data.items.map((c) => (
              <tr key={`${c.scope}/${c.sub ?? ""}/${c.name}`}>
                <td><code>{c.name}</code></td>
                <td>{c.scope}{c.sub ? ` (${c.sub})` : ""}</td>
                <td>{c.version}</td>
                <td><When at={c.updatedAt} /></td>
                <td>{c.description ?? ""}</td>
                <td class="actions">
                  {c.scope === "system" && can("credentials.delete") && (
                    <ConfirmButton label="Delete" question={`Delete ${c.name}?`} confirm="Delete"
                      onConfirm={() => action.run(() => api("DELETE", `/v1/apps/${appId}/credentials/${encodeURIComponent(c.name)}`), list.reload)} />
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {can("credentials.put") && (
        <form class="inline" onSubmit={submit} autoComplete="off">
          <label>Name <input name="credential-name" required value={name.value} onInput={(e) => (name.value = (e.target as HTMLInputElement).value)} /></label>
          <label>Value <input name="credential-value" type="password" required autoComplete="new-password" value={value.value}
            onInput={(e) => (value.value = (e.target as HTMLInputElement).value)} /></label>
          <label>Description <input name="credential-description" value={description.value} onInput={(e) => (description.value = (e.target as HTMLInputElement).value)} /></label>
          <button type="submit" disabled={action.busy.value}>Set credential</button>
        </form>
      )}
    </div>
  );
}
