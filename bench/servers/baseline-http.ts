/** The physical limit: bare node:http answering a fixed GraphQL-shaped JSON body. */
import http from "node:http";
import { announce, serveStats } from "./ipc";

const body = JSON.stringify({ data: { hello: "world" } });
const server = http.createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
    res.end(body);
  });
});
serveStats();
server.listen(0, "127.0.0.1", () => announce((server.address() as { port: number }).port));
