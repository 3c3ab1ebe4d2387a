import type { ReactNode } from "react";
import { Dialog } from "./Dialog";
import { ErrorAlert } from "./Messages";

export interface ConfirmDialogProps {
  /** The question: "Delete this API key?" */
  title: string;
  /** What the action does and that it cannot be undone, read with the title. */
  consequence: ReactNode;
  /** The dangerous button's label: "Delete", "Revoke all". */
  confirmLabel: string;
  onConfirm: () => void;
  onCancel: () => void;
  /** While the action (or a request it would race with) runs: the dangerous button is disabled, so a double click acts once. */
  busy?: boolean;
  /** Why the action failed, shown above the buttons; the dialog stays open for another try. */
  error?: unknown;
}

/**
 * The confirmation of something that cannot be undone (role alertdialog). Cancel has the focus
 * when it opens, so Enter or Space pressed by habit does no harm.
 */
export function ConfirmDialog({ title, consequence, confirmLabel, onConfirm, onCancel, busy = false, error }: ConfirmDialogProps) {
  return (
    <Dialog title={title} role="alertdialog" onClose={onCancel} description={consequence}>
      <ErrorAlert error={error} />
      <div className="actions">
        <button type="button" className="danger" disabled={busy} onClick={onConfirm}>
          {confirmLabel}
        </button>
        <button type="button" onClick={onCancel} data-autofocus>
          Cancel
        </button>
      </div>
    </Dialog>
  );
}
