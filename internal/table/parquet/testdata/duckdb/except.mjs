// DuckDB for dx's Parquet tests.
//   node except.mjs OLD.parquet NEW.parquet
// prints, as JSON, the rows of each file that are not in the other,
// computed with EXCEPT: {"added": NEW EXCEPT OLD, "removed": OLD EXCEPT NEW}.
//   node except.mjs --count KEY OLD.parquet NEW.parquet
// diffs the two by the key column KEY with EXCEPT both ways and prints
// {"added", "removed", "changed", "seconds"} (seconds: the query alone).
//   node except.mjs --rewrite IN.parquet OUT.parquet ROWS
// writes IN's rows again with DuckDB's own Parquet writer, in row groups
// of ROWS rows.
import { DuckDBInstance } from '@duckdb/node-api';

const args = process.argv.slice(2);
const db = await DuckDBInstance.create(':memory:');
const conn = await db.connect();
const q = (s) => s.replaceAll("'", "''");
if (args[0] === '--rewrite') {
  const [, from, to, rows] = args;
  await conn.run(`COPY (SELECT * FROM read_parquet('${q(from)}')) TO '${q(to)}' (FORMAT parquet, ROW_GROUP_SIZE ${Number(rows)})`);
} else if (args[0] === '--count') {
  const [, key, oldPath, newPath] = args;
  const k = '"' + key.replaceAll('"', '""') + '"';
  const start = performance.now();
  const rows = (await conn.runAndReadAll(`
    WITH a AS (SELECT * FROM read_parquet('${q(newPath)}') EXCEPT SELECT * FROM read_parquet('${q(oldPath)}')),
         r AS (SELECT * FROM read_parquet('${q(oldPath)}') EXCEPT SELECT * FROM read_parquet('${q(newPath)}')),
         c AS (SELECT ${k} FROM a INTERSECT SELECT ${k} FROM r)
    SELECT (SELECT count(*) FROM a) - (SELECT count(*) FROM c) AS added,
           (SELECT count(*) FROM r) - (SELECT count(*) FROM c) AS removed,
           (SELECT count(*) FROM c) AS changed`)).getRowObjectsJson()[0];
  const seconds = (performance.now() - start) / 1000;
  process.stdout.write(JSON.stringify({ added: Number(rows.added), removed: Number(rows.removed), changed: Number(rows.changed), seconds }));
} else {
  const [oldPath, newPath] = args;
  const except = async (a, b) => (await conn.runAndReadAll(
    `SELECT * FROM read_parquet('${q(a)}') EXCEPT SELECT * FROM read_parquet('${q(b)}')`)).getRowObjectsJson();
  const out = { added: await except(newPath, oldPath), removed: await except(oldPath, newPath) };
  process.stdout.write(JSON.stringify(out));
}
