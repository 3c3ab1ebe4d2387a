/** The framework limit: bare @apollo/server 5 (standalone, node:http) answering `{ hello }`. */
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";
import { announce, serveStats } from "./ipc";

(async () => {
  const server = new ApolloServer({ typeDefs: "type Query { hello: String }", resolvers: { Query: { hello: () => "world" } } });
  const { url } = await startStandaloneServer(server, { listen: { port: 0, host: "127.0.0.1" } });
  serveStats();
  announce(Number(new URL(url).port));
})();
