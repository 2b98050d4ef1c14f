import type { Database, Sql } from './data-source';
import { json } from './rows';
import type { StoredDocument } from './types';

type Table = 'hardware_profiles' | 'presets';

/** Stored copies of hardware profiles and presets (built-in snapshots, fitted profiles). */
export class DocumentRepository {
  constructor(
    private readonly db: Database,
    private readonly table: Table,
  ) {}

  async upsert(name: string, document: Record<string, unknown>, source: StoredDocument['source'], tx?: Sql) {
    const [row] = await this.db.sql(tx).query(
      `INSERT INTO ${this.table} (name, source, document) VALUES ($1, $2, $3)
       ON CONFLICT (name) DO UPDATE SET source = EXCLUDED.source, document = EXCLUDED.document, updated_at = now()
       RETURNING *`,
      [name, source, json(document)],
    );
    return fromRow(row!);
  }

  async get(name: string): Promise<StoredDocument | null> {
    const [row] = await this.db.query(`SELECT * FROM ${this.table} WHERE name = $1`, [name]);
    return row ? fromRow(row) : null;
  }

  async list(): Promise<StoredDocument[]> {
    return (await this.db.query(`SELECT * FROM ${this.table} ORDER BY name`)).map(fromRow);
  }

  async delete(name: string): Promise<boolean> {
    return (await this.db.execute(`DELETE FROM ${this.table} WHERE name = $1`, [name])).affected > 0;
  }
}

function fromRow(r: Record<string, unknown>): StoredDocument {
  return {
    name: String(r.name),
    source: r.source as StoredDocument['source'],
    document: r.document as Record<string, unknown>,
    createdAt: r.created_at as Date,
    updatedAt: r.updated_at as Date,
  };
}
