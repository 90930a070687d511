/* odd-physical-pg.c: the bare PostgreSQL insert limit of this machine
 *
 * What the processor's database leg could do at best: batches of BATCH rows of the shape of
 * our jobs table, each one INSERT ... SELECT FROM jsonb_array_elements($1) ON CONFLICT DO
 * NOTHING in its own transaction (committed, so with the server's fsync and
 * synchronous_commit as configured; both are reported). CONNECTIONS threads insert at once.
 * The rows go to a scratch table made LIKE jobs (same columns, indexes and checks), dropped
 * at the end. One JSON object on stdout.
 *
 *   odd-physical-pg POSTGRES_URL [ROWS] [BATCH] [CONNECTIONS]   (20000, 100, 1)
 *
 * Copyright 2026 The Distributed Task Observatory authors
 * SPDX-License-Identifier: MIT
 */
#define G_LOG_DOMAIN "odd-physical-pg"

#include <glib.h>
#include <libpq-fe.h>

#define TABLE "odd_physical_jobs"

static const char insert_sql[] =
  "INSERT INTO " TABLE " (id, type, status, payload, attempts, generation, correlation_id, "
  "                       created_at, updated_at) "
  "SELECT (x->>'id')::uuid, x->>'type', 'VALIDATED', x->'payload', 0, 0, x->>'correlation_id', "
  "       (x->>'created_at')::timestamptz, now() "
  "FROM jsonb_array_elements($1::jsonb) AS x "
  "ON CONFLICT (id) DO NOTHING";

static const char *url;

typedef struct {
  guint   batches;
  guint   batch;
  guint64 inserted;   /* result */
} Worker;

static PGconn *
connect_or_die (void)
{
  PGconn *conn = PQconnectdb (url);

  if (PQstatus (conn) != CONNECTION_OK)
    g_error ("cannot connect to %s: %s", url, PQerrorMessage (conn));
  return conn;
}

static void
exec_or_die (PGconn     *conn,
             const char *sql)
{
  PGresult *result = PQexec (conn, sql);

  if (PQresultStatus (result) != PGRES_COMMAND_OK && PQresultStatus (result) != PGRES_TUPLES_OK)
    g_error ("%s: %s", sql, PQerrorMessage (conn));
  PQclear (result);
}

static char *
show (PGconn     *conn,
      const char *setting)
{
  g_autofree char *sql = g_strdup_printf ("SHOW %s", setting);
  PGresult *result = PQexec (conn, sql);
  char *value;

  if (PQresultStatus (result) != PGRES_TUPLES_OK)
    g_error ("%s: %s", sql, PQerrorMessage (conn));
  value = g_strdup (PQgetvalue (result, 0, 0));
  PQclear (result);
  return value;
}

/* One batch as the processor builds it: a JSON array of jobs. */
static char *
make_batch (guint n)
{
  GString *s = g_string_new ("[");

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *id = g_uuid_string_random ();
      g_autofree char *correlation = g_uuid_string_random ();

      g_string_append_printf (s,
                              "%s{\"id\":\"%s\",\"type\":\"bench\",\"payload\":{\"simulate\":{\"durationMs\":0},"
                              "\"note\":\"physical limit\"},\"correlation_id\":\"%s\","
                              "\"created_at\":\"2026-11-27T01:00:00.000Z\"}",
                              i > 0 ? "," : "", id, correlation);
    }
  g_string_append_c (s, ']');
  return g_string_free (s, FALSE);
}

static gpointer
insert_batches (gpointer data)
{
  Worker *worker = data;
  PGconn *conn = connect_or_die ();

  for (guint b = 0; b < worker->batches; b++)
    {
      g_autofree char *batch = make_batch (worker->batch);
      const char *values[1] = { batch };
      PGresult *result;

      /* A single statement outside BEGIN is its own committed transaction. */
      result = PQexecParams (conn, insert_sql, 1, NULL, values, NULL, NULL, 0);
      if (PQresultStatus (result) != PGRES_COMMAND_OK)
        g_error ("insert: %s", PQerrorMessage (conn));
      worker->inserted += g_ascii_strtoull (PQcmdTuples (result), NULL, 10);
      PQclear (result);
    }

  PQfinish (conn);
  return NULL;
}

int
main (int   argc,
      char *argv[])
{
  guint rows = 20000, batch = 100, connections = 1;
  g_autofree char *fsync = NULL;
  g_autofree char *synchronous_commit = NULL;
  g_autofree char *version = NULL;
  g_autofree Worker *workers = NULL;
  g_autofree GThread **threads = NULL;
  guint64 inserted = 0;
  gint64 start;
  double seconds;
  PGconn *conn;

  if (argc < 2)
    {
      g_printerr ("usage: %s POSTGRES_URL [ROWS] [BATCH] [CONNECTIONS]\n", argv[0]);
      return 2;
    }
  url = argv[1];
  if (argc > 2)
    rows = (guint) g_ascii_strtoull (argv[2], NULL, 10);
  if (argc > 3)
    batch = (guint) g_ascii_strtoull (argv[3], NULL, 10);
  if (argc > 4)
    connections = (guint) g_ascii_strtoull (argv[4], NULL, 10);
  if (rows == 0 || batch == 0 || connections == 0 || connections > 64)
    {
      g_printerr ("%s: ROWS, BATCH and CONNECTIONS must be positive (CONNECTIONS <= 64)\n", argv[0]);
      return 2;
    }

  conn = connect_or_die ();
  exec_or_die (conn, "SET client_min_messages = warning");
  fsync = show (conn, "fsync");
  synchronous_commit = show (conn, "synchronous_commit");
  version = show (conn, "server_version");
  exec_or_die (conn, "DROP TABLE IF EXISTS " TABLE);
  exec_or_die (conn, "CREATE TABLE " TABLE " (LIKE jobs INCLUDING ALL)");

  workers = g_new0 (Worker, connections);
  threads = g_new0 (GThread *, connections);
  start = g_get_monotonic_time ();
  for (guint i = 0; i < connections; i++)
    {
      workers[i].batch = batch;
      workers[i].batches = (rows / batch + connections - 1) / connections;
      threads[i] = g_thread_new ("insert", insert_batches, &workers[i]);
    }
  for (guint i = 0; i < connections; i++)
    {
      g_thread_join (threads[i]);
      inserted += workers[i].inserted;
    }
  seconds = (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC;

  exec_or_die (conn, "DROP TABLE " TABLE);
  PQfinish (conn);

  g_print ("{\"rows\":%" G_GUINT64_FORMAT ",\"batch\":%u,\"connections\":%u,\"seconds\":%.3f,"
           "\"rowsPerSecond\":%.0f,\"commitsPerSecond\":%.0f,\"fsync\":\"%s\",\"synchronousCommit\":\"%s\","
           "\"serverVersion\":\"%s\"}\n",
           inserted, batch, connections, seconds, inserted / seconds, inserted / (double) batch / seconds,
           fsync, synchronous_commit, version);
  return 0;
}
