/** Placeholder: the admin pages are built on the admin-pages branch. */
export function KeysPage() {
  return (
    <>
      <h1>API Keys</h1>
      <p>This page is not built yet.</p>
    </>
  );
}
