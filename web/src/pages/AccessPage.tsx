import { useMutation, useQuery } from "@apollo/client/react";
import { type FormEvent, useId, useRef, useState } from "react";
import { DateTime } from "../components/DateTime";
import { ConfirmDialog } from "../components/ConfirmDialog";
import { Dialog } from "../components/Dialog";
import { ErrorAlert, Loading, Status } from "../components/Messages";
import { SecretField } from "../components/Secret";
import {
  type ApiKeyExpiration,
  DELETE_MY_API_KEY,
  expiryNotice,
  GENERATE_API_KEY,
  GENERATE_SESSION_KEY,
  KEYS_PAGE_SIZE,
  MY_API_KEYS,
  type MyApiKey,
  newIdempotencyKey,
  TOOL_SETTINGS,
} from "./access-queries";

const DESCRIPTION_MAX = 256;
const KEY_PLACEHOLDER = "<your key>";

/** External Tool Access: what a key is, how to use it, generating and deleting one's own keys. */
export function AccessPage() {
  const settings = useQuery(TOOL_SETTINGS, { fetchPolicy: "cache-and-network" });
  const keys = useQuery(MY_API_KEYS, { variables: { first: KEYS_PAGE_SIZE }, fetchPolicy: "cache-and-network", notifyOnNetworkStatusChange: true });
  const [dialog, setDialog] = useState<"api" | "session" | null>(null);
  const [deleting, setDeleting] = useState<MyApiKey | null>(null);
  const [deletedNotice, setDeletedNotice] = useState<string | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const [moreError, setMoreError] = useState<unknown>(null);

  const toolSettings = settings.data?.externalToolSettings;
  const page = keys.data?.myApiKeysPage;

  function refreshKeys(): void {
    void keys.refetch({ first: KEYS_PAGE_SIZE, after: null });
  }

  async function loadMore(): Promise<void> {
    if (!page?.pageInfo.endCursor) return;
    setLoadingMore(true);
    setMoreError(null);
    try {
      await keys.fetchMore({
        variables: { first: KEYS_PAGE_SIZE, after: page.pageInfo.endCursor },
        updateQuery: (previous, { fetchMoreResult }) => {
          const before = previous.myApiKeysPage;
          const more = fetchMoreResult.myApiKeysPage;
          if (!before) return fetchMoreResult;
          const seen = new Set(before.nodes.map((node) => node.id));
          return {
            myApiKeysPage: { ...more, nodes: [...before.nodes, ...more.nodes.filter((node) => !seen.has(node.id))] },
          };
        },
      });
    } catch (error) {
      setMoreError(error);
    } finally {
      setLoadingMore(false);
    }
  }

  return (
    <>
      <h1>External Tool Access</h1>
      <p>
        An API key lets scripts and external tools act as you: a request made with it has your full access to your data and
        actions (or, for a read-only key, can read but not change anything). Treat a key like a password and keep it secret.
      </p>
      <p>
        A key is shown only once, when you generate it: nobody, administrators included, can retrieve it later. If you lose one,
        delete it and generate a new one. You can hold several keys, one for each tool or place you use them in.
      </p>

      <section aria-labelledby="generate-heading">
        <h2 id="generate-heading">Generate a key</h2>
        {settings.error && !toolSettings && <ErrorAlert error={settings.error} />}
        {!toolSettings && !settings.error && <Loading />}
        {toolSettings && (
          <>
            {toolSettings.apiKeysEnabled ? (
              <div className="actions">
                <button type="button" className="primary" onClick={() => setDialog("api")}>
                  Generate API Key
                </button>
              </div>
            ) : (
              <p className="message message-info">API key generation is currently not enabled on this server.</p>
            )}
            {toolSettings.sessionKeysEnabled && (
              <>
                <p>A session key works like an API key while you stay logged in here: it stops when this login session ends.</p>
                <div className="actions">
                  <button type="button" onClick={() => setDialog("session")}>
                    Generate Session Key
                  </button>
                </div>
              </>
            )}
          </>
        )}
      </section>

      <section aria-labelledby="keys-heading">
        <h2 id="keys-heading">Your keys</h2>
        {deletedNotice && (
          <Status>{deletedNotice}</Status>
        )}
        {keys.error && <ErrorAlert error={keys.error} />}
        {!page && !keys.error && <Loading />}
        {page && page.nodes.length === 0 && <p>You have no API keys yet.</p>}
        {page && page.nodes.length > 0 && (
          <>
            <div className="table-wrap">
              <table>
                <caption>Your API keys</caption>
                <thead>
                  <tr>
                    <th scope="col">Description</th>
                    <th scope="col">Hint</th>
                    <th scope="col">Created</th>
                    <th scope="col">Expires</th>
                    <th scope="col">Last used</th>
                    <th scope="col">Read-only</th>
                    <th scope="col">
                      <span className="visually-hidden">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {page.nodes.map((key) => (
                    <tr key={key.id}>
                      <td className="wrap">{key.description || <span className="muted">(no description)</span>}</td>
                      <td>
                        <code>{key.hint}</code>
                      </td>
                      <td>
                        <DateTime value={key.createdAt} />
                      </td>
                      <td>
                        <DateTime value={key.expiresAt} empty="Never" />
                        {key.expired && <span className="badge">Expired</span>}
                      </td>
                      <td>
                        <DateTime value={key.lastUsedAt} empty="Never" />
                      </td>
                      <td>{key.readOnly ? "Yes" : "No"}</td>
                      <td>
                        <button
                          type="button"
                          aria-label={`Delete key ${key.hint}`}
                          onClick={() => {
                            setDeletedNotice(null);
                            setDeleting(key);
                          }}
                        >
                          Delete
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <p className="hint">
              {page.totalCount === 1 ? "1 key" : `${page.totalCount} keys`}
              {page.nodes.length < page.totalCount ? `, ${page.nodes.length} shown` : ""}.
            </p>
            {moreError != null && <ErrorAlert error={moreError} />}
            {page.pageInfo.hasNextPage && (
              <div className="actions">
                <button type="button" onClick={() => void loadMore()} disabled={loadingMore}>
                  Load more
                </button>
              </div>
            )}
          </>
        )}
      </section>

      <UsageRecipes />

      {dialog === "api" && toolSettings && (
        <GenerateApiKeyDialog
          expiration={toolSettings.apiKeyExpiration}
          onClose={(generated) => {
            setDialog(null);
            if (generated) refreshKeys();
          }}
        />
      )}
      {dialog === "session" && <GenerateSessionKeyDialog onClose={() => setDialog(null)} />}
      {deleting && (
        <DeleteKeyDialog
          apiKey={deleting}
          onClose={(deleted) => {
            setDeleting(null);
            if (deleted) {
              setDeletedNotice(`Key ${deleted.hint} deleted.`);
              refreshKeys();
            }
          }}
        />
      )}
    </>
  );
}

function UsageRecipes() {
  const host = window.location.hostname;
  const endpoint = `${window.location.origin}/graphql`;
  const query = '{"query":"{ me { email } }"}';
  return (
    <section aria-labelledby="usage-heading">
      <h2 id="usage-heading">Using a key</h2>
      <p>
        The recommended way keeps the key out of your scripts: put it in a <code>.netrc</code> file in your home directory (
        <code>_netrc</code> on Windows), readable only by you (<code>chmod 600 ~/.netrc</code>). The login is{" "}
        <code>apikey</code>, not your email address, and the password is the whole key:
      </p>
      <pre tabIndex={0}>
        <code>{`machine ${host} login apikey password ${KEY_PLACEHOLDER}`}</code>
      </pre>
      <p>
        Any client that reads <code>.netrc</code> or speaks HTTP Basic authentication then works as you. With curl:
      </p>
      <pre tabIndex={0}>
        <code>
          {`curl --netrc -X POST -H 'content-type: application/json' -d '${query}' ${endpoint}\n`}
          {`curl -u apikey:${KEY_PLACEHOLDER} -X POST -H 'content-type: application/json' -d '${query}' ${endpoint}`}
        </code>
      </pre>
      <p>
        With Python&apos;s <code>requests</code> (without <code>auth=</code>, it reads <code>.netrc</code> by itself):
      </p>
      <pre tabIndex={0}>
        <code>{`import requests\nrequests.post("${endpoint}", json={"query": "{ me { email } }"}, auth=("apikey", "${KEY_PLACEHOLDER}"))`}</code>
      </pre>
      <p>
        A 401 answer (&ldquo;User does not have permission to perform this operation.&rdquo;) means the key has expired, was
        deleted, or was copied with extra characters (such as an old <code>apikey|</code> prefix).
      </p>
    </section>
  );
}

function GenerateApiKeyDialog({ expiration, onClose }: { expiration: ApiKeyExpiration; onClose: (generated: boolean) => void }) {
  // no-cache: the secret never enters the Apollo cache.
  const [generate, { loading, error }] = useMutation(GENERATE_API_KEY, { fetchPolicy: "no-cache" });
  const [description, setDescription] = useState("");
  const [readOnly, setReadOnly] = useState(false);
  const [generated, setGenerated] = useState<{ key: string; apiKey: MyApiKey } | null>(null);
  const idempotencyKey = useRef(newIdempotencyKey());
  const descriptionId = useId();
  const counterId = useId();
  const readOnlyId = useId();

  async function submit(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    try {
      const result = await generate({
        variables: { description: description.trim() || null, readOnly, idempotencyKey: idempotencyKey.current },
      });
      if (result.data) setGenerated(result.data.generateApiKey);
    } catch {
      // Shown from `error`.
    }
  }

  const close = () => onClose(generated !== null);

  return (
    <Dialog title="Generate API Key" onClose={close}>
      {!generated ? (
        <form className="form" onSubmit={(event) => void submit(event)}>
          <div className="field">
            <label htmlFor={descriptionId}>Description</label>
            <input
              id={descriptionId}
              type="text"
              maxLength={DESCRIPTION_MAX}
              value={description}
              aria-describedby={counterId}
              onChange={(event) => setDescription(event.target.value)}
              placeholder="What will use this key?"
            />
            <p id={counterId} className="counter" aria-live="polite">
              {description.length} / {DESCRIPTION_MAX}
            </p>
          </div>
          <div className="field-inline">
            <input id={readOnlyId} type="checkbox" checked={readOnly} onChange={(event) => setReadOnly(event.target.checked)} />
            <label htmlFor={readOnlyId}>Read-only</label>
          </div>
          <p className="hint">A read-only key can run queries but no changes (mutations).</p>
          <p>{expiryNotice(expiration)}</p>
          <ErrorAlert error={error} />
          <div className="actions">
            <button type="submit" className="primary" disabled={loading}>
              Generate API Key
            </button>
            <button type="button" onClick={close}>
              Cancel
            </button>
          </div>
        </form>
      ) : (
        <div className="form">
          <SecretField label="Your new API key" value={generated.key} />
          <p className="warning">This key will not be shown again. Copy it now.</p>
          <p className="hint">
            {generated.apiKey.expiresAt ? (
              <>
                It expires <DateTime value={generated.apiKey.expiresAt} />.
              </>
            ) : (
              "It does not expire."
            )}{" "}
            Hint in your list of keys: <code>{generated.apiKey.hint}</code>
          </p>
          <div className="actions">
            <button type="button" className="primary" onClick={close}>
              Done
            </button>
          </div>
        </div>
      )}
    </Dialog>
  );
}

function GenerateSessionKeyDialog({ onClose }: { onClose: () => void }) {
  const [generate, { loading, error }] = useMutation(GENERATE_SESSION_KEY, { fetchPolicy: "no-cache" });
  const [key, setKey] = useState<string | null>(null);

  async function run(): Promise<void> {
    try {
      const result = await generate({ variables: { description: null } });
      if (result.data) setKey(result.data.generateSessionKey);
    } catch {
      // Shown from `error`.
    }
  }

  return (
    <Dialog title="Generate Session Key" onClose={onClose}>
      {key === null ? (
        <div className="form">
          <p>
            A session key carries your access like an API key, for scripts you run while logged in here. It is not listed
            anywhere.
          </p>
          <ErrorAlert error={error} />
          <div className="actions">
            <button type="button" className="primary" disabled={loading} onClick={() => void run()}>
              Generate Session Key
            </button>
            <button type="button" onClick={onClose}>
              Cancel
            </button>
          </div>
        </div>
      ) : (
        <div className="form">
          <SecretField label="Your new session key" value={key} />
          <p className="warning">This key stops working when you log out or your login session ends.</p>
          <p className="hint">It will not be shown again.</p>
          <div className="actions">
            <button type="button" className="primary" onClick={onClose}>
              Done
            </button>
          </div>
        </div>
      )}
    </Dialog>
  );
}

function DeleteKeyDialog({ apiKey, onClose }: { apiKey: MyApiKey; onClose: (deleted: MyApiKey | null) => void }) {
  const [remove, { loading, error }] = useMutation(DELETE_MY_API_KEY);

  async function confirm(): Promise<void> {
    try {
      await remove({ variables: { id: apiKey.id } });
      onClose(apiKey);
    } catch {
      // Shown from `error`.
    }
  }

  return (
    <ConfirmDialog
      title="Delete this API key?"
      consequence={
        <p>
          The key <code>{apiKey.hint}</code>
          {apiKey.description ? <> (&ldquo;{apiKey.description}&rdquo;)</> : null} stops working at once. Scripts and tools using
          it will get 401 answers. This cannot be undone.
        </p>
      }
      confirmLabel="Delete"
      busy={loading}
      error={error}
      onConfirm={() => void confirm()}
      onCancel={() => onClose(null)}
    />
  );
}
