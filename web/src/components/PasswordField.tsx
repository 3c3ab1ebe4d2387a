import { type ReactNode, useId } from "react";

export interface PasswordFieldProps {
  label: string;
  value: string;
  onChange: (value: string) => void;
  /** Tells password managers to fill in a saved password or to offer a new one. */
  autoComplete: "current-password" | "new-password";
  /** The rules a new password must meet, shown under the field and read with it. */
  rules?: ReactNode;
  name?: string;
}

/** A required password input with its label and, for a new password, its rules. */
export function PasswordField({ label, value, onChange, autoComplete, rules, name }: PasswordFieldProps) {
  const inputId = useId();
  const rulesId = useId();
  return (
    <div className="field">
      <label htmlFor={inputId}>{label}</label>
      <input
        id={inputId}
        type="password"
        name={name}
        autoComplete={autoComplete}
        required
        aria-describedby={rules ? rulesId : undefined}
        value={value}
        onChange={(event) => onChange(event.target.value)}
      />
      {rules ? (
        <p id={rulesId} className="hint">
          {rules}
        </p>
      ) : null}
    </div>
  );
}
