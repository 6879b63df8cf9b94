import type { Deps } from '../types.js';

export interface Dependent {
  /** pg_describe_object's words, e.g. "column embedding of table product_embeddings". */
  readonly object: string;
  /** The table (schema-qualified) when the dependent is a column or relation; null for anything else. */
  readonly relation: string | null;
}

/**
 * Everything that depends on an object belonging to the extension (its types above all): what
 * `DROP EXTENSION … CASCADE` would silently drop. Read from pg_depend, so nothing is guessed.
 */
export async function extensionDependents(deps: Pick<Deps, 'db'>, extension: string): Promise<Dependent[] | null> {
  const ext = await deps.db.query<{ oid: number }>('SELECT oid FROM pg_extension WHERE extname = $1', [extension]);
  if (!ext.rows[0]) return null;
  const { rows } = await deps.db.query<Dependent>(
    `WITH members AS (
       SELECT classid, objid FROM pg_depend
        WHERE refclassid = 'pg_extension'::regclass AND refobjid = $1 AND deptype = 'e'
     )
     SELECT DISTINCT pg_describe_object(d.classid, d.objid, d.objsubid) AS object,
            CASE WHEN d.classid = 'pg_class'::regclass
                 THEN (SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = d.objid) END AS relation
       FROM pg_depend d
       JOIN members m ON d.refclassid = m.classid AND d.refobjid = m.objid
      WHERE d.deptype IN ('n', 'a')
        AND NOT EXISTS (SELECT 1 FROM members x WHERE x.classid = d.classid AND x.objid = d.objid)
      ORDER BY 1`,
    [ext.rows[0].oid],
  );
  return rows;
}

export const EMBEDDINGS_TABLE = 'public.product_embeddings';
export const outsideEmbeddings = (list: readonly Dependent[]) => list.filter((d) => d.relation !== EMBEDDINGS_TABLE);
