import { type ReactNode, useEffect, useId, useRef } from "react";

export interface DialogProps {
  title: string;
  /** "alertdialog" for confirmations of something that cannot be undone. */
  role?: "dialog" | "alertdialog";
  /** Escape, or a Cancel/Done button calling it. The dialog is closed by unmounting it. */
  onClose: () => void;
  children: ReactNode;
  /** Text under the title, read with it (aria-describedby). */
  description?: ReactNode;
  className?: string;
}

/**
 * A modal dialog on the native <dialog> element: showModal() makes the rest of the page inert
 * (focus stays inside), Escape closes it, and focus goes back to the element that opened it.
 * Render it only while open: `{open && <Dialog …/>}`. Mark the element to focus first with
 * `data-autofocus` (else the first focusable one).
 */
export function Dialog({ title, role = "dialog", onClose, children, description, className }: DialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const descriptionId = useId();
  const onCloseRef = useRef(onClose);
  onCloseRef.current = onClose;

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    if (!dialog.open) dialog.showModal();
    // showModal() focuses the first focusable element; a dialog may name a safer one (Cancel).
    dialog.querySelector<HTMLElement>("[data-autofocus]")?.focus();
    // Escape: the browser fires "cancel"; the owner decides (it unmounts the dialog).
    const cancel = (event: Event) => {
      event.preventDefault();
      onCloseRef.current();
    };
    // A modal <dialog> keeps focus off the page, but Tab past the last control would leave for the
    // browser's own UI: wrap around inside instead.
    const wrapTab = (event: KeyboardEvent) => {
      if (event.key !== "Tab") return;
      const focusable = focusableIn(dialog);
      if (focusable.length === 0) return;
      const first = focusable[0];
      const last = focusable[focusable.length - 1];
      const active = document.activeElement;
      if (event.shiftKey && (active === first || !dialog.contains(active))) {
        event.preventDefault();
        last.focus();
      } else if (!event.shiftKey && (active === last || !dialog.contains(active))) {
        event.preventDefault();
        first.focus();
      }
    };
    dialog.addEventListener("cancel", cancel);
    dialog.addEventListener("keydown", wrapTab);
    return () => {
      dialog.removeEventListener("cancel", cancel);
      dialog.removeEventListener("keydown", wrapTab);
      if (dialog.open) dialog.close();
      // The opener may be gone (the row of a deleted key): then the page's main region.
      if (opener && opener.isConnected) opener.focus();
      else document.getElementById("main")?.focus();
    };
  }, []);

  return (
    <dialog
      ref={ref}
      role={role}
      aria-modal="true"
      aria-labelledby={titleId}
      aria-describedby={description ? descriptionId : undefined}
      className={className ? `dialog ${className}` : "dialog"}
    >
      <h2 id={titleId} className="dialog-title">
        {title}
      </h2>
      {description && (
        <div id={descriptionId} className="dialog-description">
          {description}
        </div>
      )}
      {children}
    </dialog>
  );
}

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

function focusableIn(root: HTMLElement): HTMLElement[] {
  return Array.from(root.querySelectorAll<HTMLElement>(FOCUSABLE)).filter((element) => !element.hidden && element.getClientRects().length > 0);
}
