import { useMutation, useQuery } from "@apollo/client/react";
import { type FormEvent, useEffect, useId, useState } from "react";
import { Alert, Status } from "../../components/Messages";
import { describeError } from "../../errors";
import { Link } from "../../router";
import { type ApiKeyExpiration, type ExternalToolSettings, SETTINGS_QUERY, UPDATE_SETTINGS } from "./documents";
import "./admin.css";

const EXPIRATION_OPTIONS: ReadonlyArray<{ value: ApiKeyExpiration; label: string }> = [
  { value: "NEVER", label: "Never" },
  { value: "DAYS_7", label: "7 days" },
  { value: "DAYS_30", label: "30 days" },
  { value: "DAYS_90", label: "90 days" },
  { value: "DAYS_180", label: "180 days" },
  { value: "DAYS_365", label: "365 days" },
];

const RETENTION_MAX_DAYS = 3650;

/** The form's own copy: the retention field holds text as typed until Save. */
interface SettingsDraft {
  apiKeysEnabled: boolean;
  sessionKeysEnabled: boolean;
  apiKeyExpiration: ApiKeyExpiration;
  expiredKeyRetentionDays: string;
}

function draftOf(settings: ExternalToolSettings): SettingsDraft {
  return { ...settings, expiredKeyRetentionDays: String(settings.expiredKeyRetentionDays) };
}

type Outcome = { kind: "saved" } | { kind: "failed"; message: string } | null;

/** External Tool Settings (admin): who may generate keys, how long they live, how long expired ones stay listed. */
export function SettingsPage() {
  const { data, error, loading } = useQuery(SETTINGS_QUERY, { fetchPolicy: "network-only" });
  const [save, { loading: saving }] = useMutation(UPDATE_SETTINGS);
  const [draft, setDraft] = useState<SettingsDraft | null>(null);
  const [outcome, setOutcome] = useState<Outcome>(null);
  const ids = { apiKeys: useId(), sessionKeys: useId(), expiration: useId(), retention: useId(), retentionHelp: useId() };

  useEffect(() => {
    if (data && draft === null) setDraft(draftOf(data.externalToolSettings));
  }, [data, draft]);

  function change(patch: Partial<SettingsDraft>): void {
    setDraft((current) => (current ? { ...current, ...patch } : current));
    setOutcome(null);
  }

  async function submit(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    if (!draft || saving) return;
    const days = Number(draft.expiredKeyRetentionDays.trim());
    if (draft.expiredKeyRetentionDays.trim() === "" || !Number.isInteger(days) || days < 0 || days > RETENTION_MAX_DAYS) {
      setOutcome({ kind: "failed", message: `Days to keep expired keys listed must be a whole number from 0 to ${RETENTION_MAX_DAYS}.` });
      return;
    }
    setOutcome(null);
    try {
      const result = await save({
        variables: {
          input: {
            apiKeysEnabled: draft.apiKeysEnabled,
            sessionKeysEnabled: draft.sessionKeysEnabled,
            apiKeyExpiration: draft.apiKeyExpiration,
            expiredKeyRetentionDays: days,
          },
        },
      });
      if (result.data) setDraft(draftOf(result.data.updateExternalToolSettings));
      setOutcome({ kind: "saved" });
    } catch (failure) {
      setOutcome({ kind: "failed", message: describeError(failure).message });
    }
  }

  return (
    <section className="admin-page settings-page" aria-labelledby="settings-title">
      <h1 id="settings-title">External Tool Settings</h1>
      <p className="lead">
        Manage every key on the server: <Link to="/admin/keys">API Keys</Link>
      </p>

      {error && !data ? (
        <Alert>
          The settings could not be loaded: {describeError(error).message}
        </Alert>
      ) : null}
      {loading && !draft ? <p>Loading the settings…</p> : null}

      {draft ? (
        <form className="form settings-form" onSubmit={(event) => void submit(event)} noValidate>
          <fieldset>
            <legend>API keys</legend>
            <div className="field field-checkbox">
              <input
                id={ids.apiKeys}
                type="checkbox"
                checked={draft.apiKeysEnabled}
                onChange={(event) => change({ apiKeysEnabled: event.target.checked })}
              />
              <label htmlFor={ids.apiKeys}>Allow users to generate API keys</label>
            </div>
            <div className="field field-checkbox">
              <input
                id={ids.sessionKeys}
                type="checkbox"
                checked={draft.sessionKeysEnabled}
                onChange={(event) => change({ sessionKeysEnabled: event.target.checked })}
              />
              <label htmlFor={ids.sessionKeys}>Allow users to generate session keys</label>
            </div>
            <p className="hint">Turning generation off does not stop keys that already exist; revoke them on the API Keys page.</p>
          </fieldset>

          <div className="field">
            <label htmlFor={ids.expiration}>API key expiration</label>
            <select
              id={ids.expiration}
              value={draft.apiKeyExpiration}
              onChange={(event) => change({ apiKeyExpiration: event.target.value as ApiKeyExpiration })}
            >
              {EXPIRATION_OPTIONS.map((option) => (
                <option key={option.value} value={option.value}>
                  {option.label}
                </option>
              ))}
            </select>
            <p className="hint">Applies to keys generated from now on.</p>
          </div>

          <div className="field">
            <label htmlFor={ids.retention}>Days to keep expired keys listed</label>
            <input
              id={ids.retention}
              type="number"
              inputMode="numeric"
              min={0}
              max={RETENTION_MAX_DAYS}
              step={1}
              value={draft.expiredKeyRetentionDays}
              aria-describedby={ids.retentionHelp}
              onChange={(event) => change({ expiredKeyRetentionDays: event.target.value })}
            />
            <p id={ids.retentionHelp} className="hint">
              0 to {RETENTION_MAX_DAYS}. Expired keys stop working at once; after this many days they are deleted from the lists.
            </p>
          </div>

          <div className="actions">
            {/* Not disabled while saving: the button keeps the keyboard focus; submit() ignores a second press. */}
            <button type="submit" className="primary" aria-busy={saving || undefined}>
              Save
            </button>
          </div>

          {outcome?.kind === "saved" ? (
            <Status>
              Settings saved.
            </Status>
          ) : null}
          {outcome?.kind === "failed" ? (
            <Alert>
              Settings were not saved: {outcome.message}
            </Alert>
          ) : null}
        </form>
      ) : null}
    </section>
  );
}
