import "reflect-metadata";
import { loadConfig } from "./src/config";
import { createDataSource } from "./src/db/data-source";

/** For the TypeORM CLI, e.g. `npx typeorm-ts-node-commonjs migration:show -d ormconfig.ts`. */
export default createDataSource(loadConfig().database);
