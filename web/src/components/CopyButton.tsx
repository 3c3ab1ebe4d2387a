import { useEffect, useRef, useState } from "react";

interface CopyButtonProps {
  /** The text put on the clipboard (a secret: it is never logged or stored). */
  text: string;
  /** The read-only field showing the text: selected as a fallback when the clipboard is refused. */
  sourceId?: string;
  label?: string;
}

type CopyState = "idle" | "copied" | "failed";

/** A "Copy" button with its confirmation in a role=status live region. */
export function CopyButton({ text, sourceId, label = "Copy" }: CopyButtonProps) {
  const [state, setState] = useState<CopyState>("idle");
  const timer = useRef<number | undefined>(undefined);
  useEffect(() => () => window.clearTimeout(timer.current), []);

  async function copy(): Promise<void> {
    window.clearTimeout(timer.current);
    let ok = false;
    try {
      if (navigator.clipboard && window.isSecureContext) {
        await navigator.clipboard.writeText(text);
        ok = true;
      }
    } catch {
      ok = false;
    }
    if (!ok) ok = copyBySelection(sourceId);
    setState(ok ? "copied" : "failed");
  }

  return (
    <span className="copy">
      <button type="button" onClick={() => void copy()}>
        {label}
      </button>
      <span role="status" className={state === "failed" ? "copy-status copy-status-failed" : "copy-status"}>
        {state === "copied" && "Copied to the clipboard."}
        {state === "failed" && "Could not copy: select the text and copy it by hand."}
      </span>
    </span>
  );
}

function copyBySelection(sourceId: string | undefined): boolean {
  const field = sourceId ? document.getElementById(sourceId) : null;
  if (!(field instanceof HTMLInputElement || field instanceof HTMLTextAreaElement)) return false;
  const active = document.activeElement;
  field.focus();
  field.select();
  let ok = false;
  try {
    ok = document.execCommand("copy");
  } catch {
    ok = false;
  }
  if (active instanceof HTMLElement) active.focus();
  return ok;
}
