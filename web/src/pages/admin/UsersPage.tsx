/** Placeholder: the admin pages are built on the admin-pages branch. */
export function UsersPage() {
  return (
    <>
      <h1>Users</h1>
      <p>This page is not built yet.</p>
    </>
  );
}
