import { gql, type TypedDocumentNode } from "@apollo/client";
import { useApolloClient, useMutation } from "@apollo/client/react";
import { type FormEvent, useEffect, useId, useState } from "react";
import { Alert } from "../components/Messages";
import { PasswordField } from "../components/PasswordField";
import { describeError, isThrottled } from "../errors";
import { type Me, ME_QUERY } from "../me";
import { HOME_PATH } from "../routes";
import { navigate, safeNextPath } from "../router";

const LOGIN: TypedDocumentNode<{ login: Me }, { email: string; password: string }> = gql`
  mutation Login($email: String!, $password: String!) {
    login(email: $email, password: $password) {
      id
      email
      displayName
      isAdmin
      passwordChangeRequired
    }
  }
`;

export function LoginPage({ search }: { search: string }) {
  const client = useApolloClient();
  const [login, { loading }] = useMutation(LOGIN);
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const emailId = useId();
  const next = safeNextPath(new URLSearchParams(search).get("next"));

  useEffect(() => {
    document.title = "Log in · API Key Service";
  }, []);

  async function submit(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    setProblem(null);
    try {
      const result = await login({ variables: { email: email.trim(), password } });
      const me = result.data?.login;
      if (!me) throw new Error("no user in the login answer");
      // Whatever another account left in the cache goes; the new user is known without a round trip.
      await client.clearStore();
      client.writeQuery({ query: ME_QUERY, data: { me } });
      setPassword("");
      navigate(me.passwordChangeRequired ? "/account" : (next ?? HOME_PATH), { replace: true });
    } catch (error) {
      setProblem(loginProblem(error));
    }
  }

  return (
    <main id="main" className="page page-login">
      <h1>Log in</h1>
      <p className="brand-line">API Key Service</p>
      {next && !problem && <p className="message message-info">Log in to continue.</p>}
      <form className="form" onSubmit={(event) => void submit(event)} noValidate>
        <div className="field">
          <label htmlFor={emailId}>Email</label>
          <input id={emailId} type="email" name="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} />
        </div>
        <PasswordField label="Password" name="password" autoComplete="current-password" value={password} onChange={setPassword} />
        {problem && (
          <Alert>{problem}</Alert>
        )}
        <button type="submit" className="primary" disabled={loading}>
          Log in
        </button>
      </form>
    </main>
  );
}

function loginProblem(error: unknown): string {
  const info = describeError(error);
  if (isThrottled(info)) {
    const wait = info.retryAfterSeconds;
    return wait !== undefined && wait > 0
      ? `Too many failed attempts. Try again in ${wait} ${wait === 1 ? "second" : "seconds"}.`
      : "Too many failed attempts. Try again later.";
  }
  if (info.code === "UNAUTHENTICATED" || info.status === 401) return "Wrong email or password.";
  return info.message;
}
