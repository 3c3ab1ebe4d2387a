/**
 * The peer design a user would otherwise pick (cf. textbee#250): the key is `<id>.<secret>`, the
 * row is found by the id embedded in the key, and the secret is checked with bcrypt.compare
 * (cost 10) on every request. Same stack as the baseline: @apollo/server 5 standalone.
 */
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";
import bcrypt from "bcrypt";
import Database from "better-sqlite3";
import { GraphQLError } from "graphql";
import mysql from "mysql2/promise";
import { announce, serveStats } from "./ipc";

type Row = { user_id: number; secret_hash: string; email: string } | undefined;
const unauthenticated = () => new GraphQLError("User does not have permission to perform this operation.", { extensions: { code: "UNAUTHENTICATED", http: { status: 401 } } });

(async () => {
  const url = process.env.DATABASE_URL!;
  const SQL = "SELECT k.user_id, k.secret_hash, u.email FROM naive_api_keys k INNER JOIN users u ON u.id = k.user_id WHERE k.id = ?";
  let find: (id: number) => Promise<Row>;
  if (url.startsWith("sqlite:")) {
    const statement = new Database(url.slice("sqlite:".length)).prepare(SQL);
    find = async (id) => statement.get(id) as Row;
  } else {
    const pool = mysql.createPool({ uri: url, connectionLimit: 10 });
    find = async (id) => ((await pool.execute(SQL, [id]))[0] as Row[])[0];
  }
  const server = new ApolloServer<{ user: { id: number; email: string } }>({
    typeDefs: "type User { id: ID! email: String! } type Query { me: User! }",
    resolvers: { Query: { me: (_parent, _args, context) => context.user } },
  });
  const { url: listening } = await startStandaloneServer(server, {
    listen: { port: 0, host: "127.0.0.1" },
    context: async ({ req }) => {
      const match = /^Basic (.+)$/.exec(req.headers.authorization ?? "");
      const [user, key] = match ? Buffer.from(match[1], "base64").toString("utf8").split(":") : [];
      const [idText, secret] = user === "apikey" && key ? key.split(".") : [];
      const row = idText && secret ? await find(Number(idText)) : undefined;
      if (!row || !(await bcrypt.compare(secret, row.secret_hash))) throw unauthenticated();
      return { user: { id: row.user_id, email: row.email } };
    },
  });
  serveStats();
  announce(Number(new URL(listening).port));
})();
