/** Initialises an empty PGlite data folder in the folder given (see global-setup.ts). */
import { openDatabase } from '../../packages/server/src/infra/database.js';

const dataDir = process.argv[2];
if (!dataDir) throw new Error('usage: create-pglite-template.ts DATA_DIR');
const db = await openDatabase({ dataDir });
await db.close();
