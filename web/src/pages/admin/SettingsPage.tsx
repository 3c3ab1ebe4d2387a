/** Placeholder: the admin pages are built on the admin-pages branch. */
export function SettingsPage() {
  return (
    <>
      <h1>External Tool Settings</h1>
      <p>This page is not built yet.</p>
    </>
  );
}
