import { type KeyboardEvent, useEffect, useId, useRef, useState } from "react";
import { navigate } from "../router";

export interface MenuEntry {
  label: string;
  /** A page path, or an action. */
  to?: string;
  action?: () => void;
}

/**
 * The "<name> ▾" menu button (WAI-ARIA menu button pattern): Enter/Space/ArrowDown open it on the
 * first item, ArrowUp on the last; arrows, Home and End move; Escape closes and returns focus to
 * the button; Tab or a click elsewhere closes it.
 */
export function UserMenu({ name, entries }: { name: string; entries: MenuEntry[] }) {
  const [open, setOpen] = useState(false);
  const [focusIndex, setFocusIndex] = useState(0);
  const buttonRef = useRef<HTMLButtonElement>(null);
  const itemRefs = useRef<(HTMLElement | null)[]>([]);
  const wrapperRef = useRef<HTMLDivElement>(null);
  const menuId = useId();
  const buttonId = useId();

  useEffect(() => {
    if (open) itemRefs.current[focusIndex]?.focus();
  }, [open, focusIndex]);

  useEffect(() => {
    if (!open) return;
    const outside = (event: PointerEvent) => {
      if (wrapperRef.current && !wrapperRef.current.contains(event.target as Node)) setOpen(false);
    };
    document.addEventListener("pointerdown", outside);
    return () => document.removeEventListener("pointerdown", outside);
  }, [open]);

  function openAt(index: number): void {
    setFocusIndex(index);
    setOpen(true);
  }

  function close(returnFocus: boolean): void {
    setOpen(false);
    if (returnFocus) buttonRef.current?.focus();
  }

  function onButtonKeyDown(event: KeyboardEvent<HTMLButtonElement>): void {
    if (event.key === "ArrowDown" || event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      openAt(0);
    } else if (event.key === "ArrowUp") {
      event.preventDefault();
      openAt(entries.length - 1);
    } else if (event.key === "Escape" && open) {
      event.preventDefault();
      close(true);
    }
  }

  function onMenuKeyDown(event: KeyboardEvent<HTMLUListElement>): void {
    const last = entries.length - 1;
    switch (event.key) {
      case "ArrowDown":
        event.preventDefault();
        setFocusIndex((i) => (i >= last ? 0 : i + 1));
        break;
      case "ArrowUp":
        event.preventDefault();
        setFocusIndex((i) => (i <= 0 ? last : i - 1));
        break;
      case "Home":
        event.preventDefault();
        setFocusIndex(0);
        break;
      case "End":
        event.preventDefault();
        setFocusIndex(last);
        break;
      case "Escape":
        event.preventDefault();
        close(true);
        break;
      case "Tab":
        close(false);
        break;
      default:
        break;
    }
  }

  function choose(entry: MenuEntry): void {
    close(true);
    if (entry.action) entry.action();
    else if (entry.to) navigate(entry.to);
  }

  return (
    <div className="user-menu" ref={wrapperRef}>
      <button
        ref={buttonRef}
        id={buttonId}
        type="button"
        className="user-menu-button"
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={menuId}
        onClick={() => (open ? close(false) : openAt(0))}
        onKeyDown={onButtonKeyDown}
      >
        {name} ▾
      </button>
      <ul id={menuId} role="menu" aria-labelledby={buttonId} className="user-menu-list" hidden={!open} onKeyDown={onMenuKeyDown}>
        {entries.map((entry, index) => (
          <li role="none" key={entry.label}>
            {entry.to ? (
              <a
                role="menuitem"
                href={entry.to}
                tabIndex={-1}
                ref={(el) => {
                  itemRefs.current[index] = el;
                }}
                onClick={(event) => {
                  if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
                  event.preventDefault();
                  choose(entry);
                }}
              >
                {entry.label}
              </a>
            ) : (
              <button
                role="menuitem"
                type="button"
                tabIndex={-1}
                ref={(el) => {
                  itemRefs.current[index] = el;
                }}
                onClick={() => choose(entry)}
              >
                {entry.label}
              </button>
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}
