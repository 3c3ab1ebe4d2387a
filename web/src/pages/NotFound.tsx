import { Link } from "../router";

export function NotFound() {
  return (
    <>
      <h1>Page not found</h1>
      <p>
        There is no page at this address. <Link to="/access">Go to External Tool Access</Link>
      </p>
    </>
  );
}
