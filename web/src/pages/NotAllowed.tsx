import { Link } from "../router";

/** An admin page seen by someone who is not a site admin. */
export function NotAllowed() {
  return (
    <>
      <h1>Not allowed</h1>
      <p>This page is for site administrators.</p>
      <p>
        <Link to="/access">Go to External Tool Access</Link>
      </p>
    </>
  );
}
