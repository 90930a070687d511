#define G_LOG_DOMAIN "odd-migrations"

#include "odd-pg.h"

#include <stdlib.h>

/* The shared schema (docs/architecture.md). Steps are append-only: a released step is never
 * edited, a change is a new step. Each runs once, in order, inside the migration transaction. */
static const char *const migrations[] = {
  /* 1: the initial schema */
  "CREATE TABLE jobs ("
  "  id uuid PRIMARY KEY,"
  "  type text NOT NULL,"
  "  status text NOT NULL"
  "    CHECK (status IN ('PENDING', 'VALIDATED', 'EXECUTING', 'COMPLETED', 'FAILED')),"
  "  payload jsonb NOT NULL DEFAULT '{}'::jsonb,"
  "  attempts integer NOT NULL DEFAULT 0,"
  "  generation integer NOT NULL DEFAULT 0,"
  "  last_error text,"
  "  correlation_id text,"
  "  created_at timestamptz NOT NULL DEFAULT now(),"
  "  updated_at timestamptz NOT NULL DEFAULT now(),"
  "  started_at timestamptz,"
  "  finished_at timestamptz"
  ");"
  /* newest first, with id as tie breaker for keyset pagination */
  "CREATE INDEX jobs_created_at_idx ON jobs (created_at DESC, id DESC);"
  "CREATE INDEX jobs_status_idx ON jobs (status);"
  "CREATE INDEX jobs_type_idx ON jobs (type);"
  "CREATE TABLE job_events ("
  "  seq bigserial NOT NULL UNIQUE,"
  "  event_id uuid PRIMARY KEY,"
  "  job_id uuid NOT NULL,"
  "  event_type text NOT NULL,"
  "  occurred_at timestamptz NOT NULL,"
  "  received_at timestamptz NOT NULL DEFAULT now(),"
  "  envelope jsonb NOT NULL"
  ");"
  "CREATE INDEX job_events_job_idx ON job_events (job_id, occurred_at);"
  "CREATE TABLE dead_letters ("
  "  id bigserial PRIMARY KEY,"
  "  queue text NOT NULL,"
  "  reason text NOT NULL,"
  "  job_id uuid NULL,"
  "  correlation_id text,"
  "  message jsonb NOT NULL,"
  "  dead_at timestamptz NOT NULL DEFAULT now(),"
  "  replayed_at timestamptz NULL"
  ");"
  "CREATE INDEX dead_letters_dead_at_idx ON dead_letters (dead_at DESC);"
  "CREATE INDEX dead_letters_job_idx ON dead_letters (job_id);",
  /* 2: GET /events without a job id reads the newest events of the whole store */
  "CREATE INDEX job_events_occurred_idx ON job_events (occurred_at DESC, seq DESC);",
  /* 3: a dead letter is stored once per message (its key is the dead letter's message id,
   * the same for every redelivery); rows from before get a key of their own. And the
   * deliveries counted per message, to end crash loops (odd-redelivery.c). */
  "ALTER TABLE dead_letters ADD COLUMN message_key text NOT NULL DEFAULT gen_random_uuid()::text;"
  "CREATE UNIQUE INDEX dead_letters_message_key_idx ON dead_letters (queue, message_key);"
  "CREATE TABLE message_deliveries ("
  "  message_key text PRIMARY KEY,"
  "  deliveries integer NOT NULL,"
  "  first_at timestamptz NOT NULL DEFAULT now(),"
  "  last_at timestamptz NOT NULL DEFAULT now()"
  ");",
  /* 4: seqs commit in the order they are handed out. bigserial takes a seq at INSERT, not at
   * COMMIT: with two writers a higher seq could commit first and a projection reading
   * "seq > watermark" would pass the lower one for ever. So every INSERT into job_events, from
   * any client, first takes a transaction-level lock held until its COMMIT or ROLLBACK: once a
   * seq is visible, every lower seq is committed or never will be (docs/architecture.md,
   * "Replicas"). A statement trigger fires before the statement computes its rows' seqs.
   * OR REPLACE: the function outlives a job_events dropped by hand (the trigger does not). */
  "CREATE OR REPLACE FUNCTION job_events_order_commits () RETURNS trigger LANGUAGE plpgsql AS $$"
  " BEGIN PERFORM pg_advisory_xact_lock(" ODD_PG_EVENT_STORE_LOCK_KEY "); RETURN NULL; END $$;"
  "CREATE TRIGGER job_events_order_commits BEFORE INSERT ON job_events"
  "  FOR EACH STATEMENT EXECUTE FUNCTION job_events_order_commits ();",
  /* 5: no statistics on the JSON documents: no query filters on them, and ANALYZE (which
   * autovacuum runs every few thousand inserted events) spent more time detoasting and
   * sorting these sampled documents than on every other column together. */
  "ALTER TABLE job_events ALTER COLUMN envelope SET STATISTICS 0;"
  "ALTER TABLE jobs ALTER COLUMN payload SET STATISTICS 0;"
  "ALTER TABLE dead_letters ALTER COLUMN message SET STATISTICS 0;",
};

/* Any constant shared by every build: it serialises migrations across processes. */
#define MIGRATION_LOCK_KEY "7315420981"

int
odd_pg_schema_version (void)
{
  return G_N_ELEMENTS (migrations);
}

static gboolean
migrate_in_transaction (PGconn  *conn,
                        GError **error)
{
  g_autoptr(PGresult) current = NULL;
  int version;

  /* The lock is taken before anything is read, so two services starting together apply
   * each step exactly once; it is released by COMMIT or ROLLBACK. */
  if (!odd_pg_exec (conn, "SELECT pg_advisory_xact_lock(" MIGRATION_LOCK_KEY ")", error))
    return FALSE;
  if (!odd_pg_exec (conn,
                    "CREATE TABLE IF NOT EXISTS schema_migrations ("
                    "  version integer PRIMARY KEY,"
                    "  applied_at timestamptz NOT NULL DEFAULT now())",
                    error))
    return FALSE;

  current = odd_pg_query (conn, "SELECT coalesce(max(version), 0) FROM schema_migrations",
                          0, NULL, error);
  if (current == NULL)
    return FALSE;
  version = atoi (PQgetvalue (current, 0, 0));

  for (int step = version + 1; step <= odd_pg_schema_version (); step++)
    {
      g_autofree char *step_text = g_strdup_printf ("%d", step);
      const char *params[] = { step_text };
      g_autoptr(PGresult) inserted = NULL;
      g_autoptr(GError) local_error = NULL;

      if (!odd_pg_exec (conn, migrations[step - 1], &local_error))
        {
          g_propagate_prefixed_error (error, g_steal_pointer (&local_error),
                                      "Migration %d failed: ", step);
          return FALSE;
        }
      inserted = odd_pg_query (conn, "INSERT INTO schema_migrations (version) VALUES ($1::integer)",
                               1, params, error);
      if (inserted == NULL)
        return FALSE;
      g_debug ("Applied schema migration %d", step);
    }

  return TRUE;
}

gboolean
odd_pg_migrate (PGconn  *conn,
                GError **error)
{
  g_return_val_if_fail (conn != NULL, FALSE);

  if (!odd_pg_exec (conn, "BEGIN", error))
    return FALSE;

  if (!migrate_in_transaction (conn, error))
    {
      /* Nothing half applied stays behind: DDL is transactional in PostgreSQL. */
      odd_pg_exec (conn, "ROLLBACK", NULL);
      return FALSE;
    }

  return odd_pg_exec (conn, "COMMIT", error);
}
