// drizzle-kit for the PostgreSQL schema: its own migration history in drizzle-pg/, never shared
// with SQLite's drizzle/ (`npm run db:generate` regenerates both).
import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/pg/schema.ts',
  out: './drizzle-pg',
});
