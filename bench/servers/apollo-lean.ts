/**
 * The framework's own floor: @apollo/server 5 answering `{ hello }` through
 * `executeHTTPGraphQLRequest` behind plain node:http (JSON.parse, one writeHead), without the
 * standalone server's cors, body-parser and finalhandler middleware. What an HTTP integration
 * cannot go below while Apollo runs the request.
 */
import { ApolloServer, HeaderMap } from "@apollo/server";
import http from "node:http";
import { announce, serveStats } from "./ipc";

(async () => {
  const server = new ApolloServer({ typeDefs: "type Query { hello: String }", resolvers: { Query: { hello: () => "world" } } });
  await server.start();
  const httpServer = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", async () => {
      const headers = new HeaderMap();
      for (const [name, value] of Object.entries(req.headers)) if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(", ") : value);
      const text = Buffer.concat(chunks).toString("utf8");
      const response = await server.executeHTTPGraphQLRequest({
        httpGraphQLRequest: { method: req.method!.toUpperCase(), headers, search: "", body: text ? JSON.parse(text) : undefined },
        context: async () => ({}),
      });
      const out: string[] = [];
      for (const [name, value] of response.headers) out.push(name, value);
      const body = response.body.kind === "complete" ? response.body.string : "";
      out.push("content-length", String(Buffer.byteLength(body)));
      res.writeHead(response.status ?? 200, out);
      res.end(body);
    });
  });
  serveStats();
  httpServer.listen(0, "127.0.0.1", () => announce((httpServer.address() as { port: number }).port));
})();
