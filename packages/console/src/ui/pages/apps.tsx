import { useSignal } from "@preact/signals";
import { api, get } from "../api.ts";
import { Empty, ErrorBox, useAction, useLoad, When } from "../components.tsx";
import { can } from "../roles.ts";

export type App = {
  id: string; name: string; description?: string; createdAt: string; updatedAt: string;
  kek?: { version?: string; rotatedAt?: string };
};

export function AppsPage() {
  const apps = useLoad(() => get<{ items: App[] }>("/v1/apps?limit=100"));
  const name = useSignal("");
  const create = useAction();
  const submit = (e: Event) => {
    e.preventDefault();
    create.run(() => api("POST", "/v1/apps", { body: { name: name.value } }), () => { name.value = ""; apps.reload(); });
  };
  return (
    <section aria-labelledby="apps-title">
      <h1 id="apps-title">Apps</h1>
      {can("apps.create") && (
        <form class="inline" onSubmit={submit}>
          <label>New app <input name="app-name" required maxLength={100} value={name.value} onInput={(e) => (name.value = (e.target as HTMLInputElement).value)} /></label>
          <button type="submit" disabled={create.busy.value}>Create app</button>
        </form>
      )}
      <ErrorBox error={create.error.value} />
      <ErrorBox error={apps.error} />
      {apps.data && !apps.data.items.length && <Empty>No apps yet.{can("apps.create") ? " Create the first one above." : ""}</Empty>}
      {!!apps.data?.items.length && (
        <table data-testid="apps">
          <thead><tr><th>Name</th><th>Description</th><th>Created</th></tr></thead>
          <tbody>
            {apps.data.items.map((app) => (
              <tr key={app.id} data-app={app.id}>
                <td><a class="app-name" href={`#/apps/${app.id}`}>{app.name}</a></td>
                <td>{app.description ?? ""}</td>
                <td><When at={app.createdAt} /></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
