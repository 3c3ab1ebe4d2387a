import { useEffect, useId, useRef } from "react";
import { CopyButton } from "./CopyButton";

/**
 * A secret shown once (a new key, a one-time password): a read-only textbox, selected on show,
 * with a Copy button. It lives only in the dialog's state; nothing keeps it after the dialog closes.
 */
export function SecretField({ label, value }: { label: string; value: string }) {
  const id = useId();
  const ref = useRef<HTMLInputElement>(null);
  useEffect(() => {
    ref.current?.focus();
    ref.current?.select();
  }, []);
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        ref={ref}
        id={id}
        type="text"
        className="secret"
        readOnly
        value={value}
        autoComplete="off"
        spellCheck={false}
        onFocus={(event) => event.currentTarget.select()}
      />
      <div>
        <CopyButton text={value} sourceId={id} />
      </div>
    </div>
  );
}
