#include <string.h>
#include <gio/gio.h>
#include "odd-pg.h"

static const char *
pg_url (void)
{
  const char *url = g_getenv ("ODD_TEST_POSTGRES_URL");

  if (url == NULL || *url == '\0')
    {
      g_test_skip ("ODD_TEST_POSTGRES_URL is not set");
      return NULL;
    }
  return url;
}

/* A connection working in a fresh schema, so that every run migrates from nothing. */
static PGconn *
connect_scratch (const char *schema)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *sql = NULL;
  PGconn *conn = odd_pg_connect (pg_url (), &error);

  g_assert_no_error (error);
  sql = g_strdup_printf ("DROP SCHEMA IF EXISTS %s CASCADE; CREATE SCHEMA %s; SET search_path TO %s",
                         schema, schema, schema);
  g_assert_true (odd_pg_exec (conn, sql, &error));
  g_assert_no_error (error);
  return conn;
}

static void
drop_scratch (PGconn     *conn,
              const char *schema)
{
  g_autofree char *sql = g_strdup_printf ("DROP SCHEMA IF EXISTS %s CASCADE", schema);

  g_assert_true (odd_pg_exec (conn, sql, NULL));
}

static void
test_connect_errors (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PGconn) conn = NULL;

  conn = odd_pg_connect ("postgresql://postgres@127.0.0.1:1/none", &error);
  g_assert_null (conn);
  g_assert_error (error, ODD_PG_ERROR, ODD_PG_ERROR_CONNECT);
  g_assert_nonnull (strstr (error->message, "Cannot connect to PostgreSQL"));
  g_assert_null (strchr (error->message, '\n'));
  g_clear_error (&error);

  conn = odd_pg_connect ("postgresql://[bad", &error);
  g_assert_null (conn);
  g_assert_error (error, ODD_PG_ERROR, ODD_PG_ERROR_CONNECT);
  g_clear_error (&error);

  conn = odd_pg_connect ("nokey", &error);
  g_assert_null (conn);
  g_assert_error (error, ODD_PG_ERROR, ODD_PG_ERROR_CONNECT);
  g_assert_nonnull (strstr (error->message, "Invalid PostgreSQL URL"));
}

static void
test_connect_settings (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PGconn) conn = NULL;
  g_autoptr(PGresult) tz = NULL;
  PQconninfoOption *info;
  gboolean saw_timeout = FALSE;

  if (pg_url () == NULL)
    return;
  conn = odd_pg_connect (pg_url (), &error);
  g_assert_no_error (error);

  tz = odd_pg_query (conn, "SHOW TimeZone", 0, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (PQgetvalue (tz, 0, 0), ==, "UTC");

  info = PQconninfo (conn);
  for (PQconninfoOption *o = info; o->keyword != NULL; o++)
    if (g_strcmp0 (o->keyword, "connect_timeout") == 0)
      {
        g_assert_cmpstr (o->val, ==, "10");
        saw_timeout = TRUE;
      }
  PQconninfoFree (info);
  g_assert_true (saw_timeout);
  g_assert_true (odd_pg_ensure (conn));
}

static void
test_migrate_twice (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PGconn) conn = NULL;
  g_autoptr(PGresult) versions = NULL;
  g_autoptr(PGresult) tables = NULL;
  g_autoptr(PGresult) indexes = NULL;

  if (pg_url () == NULL)
    return;
  conn = connect_scratch ("odd_test_migrate");

  g_assert_cmpint (odd_pg_schema_version (), >=, 1);
  g_assert_true (odd_pg_migrate (conn, &error));
  g_assert_no_error (error);
  g_assert_true (odd_pg_migrate (conn, &error));
  g_assert_no_error (error);

  versions = odd_pg_query (conn, "SELECT count(*), max(version) FROM schema_migrations", 0, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (atoi (PQgetvalue (versions, 0, 0)), ==, odd_pg_schema_version ());
  g_assert_cmpint (atoi (PQgetvalue (versions, 0, 1)), ==, odd_pg_schema_version ());

  tables = odd_pg_query (conn,
                         "SELECT string_agg(table_name, ',' ORDER BY table_name) FROM information_schema.tables"
                         " WHERE table_schema = 'odd_test_migrate'", 0, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (PQgetvalue (tables, 0, 0), ==, "dead_letters,job_events,jobs,message_deliveries,schema_migrations");

  indexes = odd_pg_query (conn,
                          "SELECT count(*) FROM pg_indexes WHERE schemaname = 'odd_test_migrate'"
                          " AND indexname IN ('jobs_created_at_idx', 'jobs_status_idx', 'jobs_type_idx',"
                          " 'job_events_job_idx', 'dead_letters_dead_at_idx')", 0, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (PQgetvalue (indexes, 0, 0), ==, "5");

  drop_scratch (conn, "odd_test_migrate");
}

static gpointer
migrate_thread (gpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PGconn) conn = odd_pg_connect (data, &error);

  g_assert_no_error (error);
  g_assert_true (odd_pg_exec (conn, "SET search_path TO odd_test_race", &error));
  g_assert_true (odd_pg_migrate (conn, &error));
  g_assert_no_error (error);
  return NULL;
}

static void
test_migrate_concurrently (void)
{
  g_autoptr(PGconn) conn = NULL;
  g_autoptr(PGresult) versions = NULL;
  GThread *threads[4];

  if (pg_url () == NULL)
    return;
  conn = connect_scratch ("odd_test_race");
  for (int i = 0; i < 4; i++)
    threads[i] = g_thread_new ("migrate", migrate_thread, (gpointer) pg_url ());
  for (int i = 0; i < 4; i++)
    g_thread_join (threads[i]);

  versions = odd_pg_query (conn, "SELECT count(*) FROM schema_migrations", 0, NULL, NULL);
  g_assert_nonnull (versions);
  g_assert_cmpint (atoi (PQgetvalue (versions, 0, 0)), ==, odd_pg_schema_version ());
  drop_scratch (conn, "odd_test_race");
}

static void
test_query_errors (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PGconn) conn = NULL;
  g_autoptr(PGresult) ok = NULL;
  PGresult *bad;
  const char *job[] = { "0b8b1f0e-8a7c-4a54-9b6b-4a1f2a3c4d5e", "email", "PENDING" };
  const char *bogus[] = { "1b8b1f0e-8a7c-4a54-9b6b-4a1f2a3c4d5e", "email", "BOGUS" };
  const char *not_uuid[] = { "not-a-uuid", "email", "PENDING" };
  const char *insert = "INSERT INTO jobs (id, type, status) VALUES ($1, $2, $3)";

  if (pg_url () == NULL)
    return;
  conn = connect_scratch ("odd_test_query");
  g_assert_true (odd_pg_migrate (conn, &error));

  ok = odd_pg_query (conn, insert, 3, job, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (PQcmdTuples (ok), ==, "1");

  bad = odd_pg_query (conn, insert, 3, job, &error);
  g_assert_null (bad);
  g_assert_error (error, ODD_PG_ERROR, ODD_PG_ERROR_CONFLICT);
  g_assert_cmpstr (odd_pg_error_get_sqlstate (error), ==, "23505");
  g_assert_cmpint (odd_pg_error_get_failure (error), ==, ODD_PG_FAILURE_DATA);
  g_clear_error (&error);

  bad = odd_pg_query (conn, insert, 3, bogus, &error);
  g_assert_null (bad);
  g_assert_error (error, ODD_PG_ERROR, ODD_PG_ERROR_QUERY);
  g_assert_nonnull (strstr (error->message, "check constraint"));
  g_clear_error (&error);

  bad = odd_pg_query (conn, insert, 3, not_uuid, &error);
  g_assert_null (bad);
  g_assert_error (error, ODD_PG_ERROR, ODD_PG_ERROR_QUERY);
  g_clear_error (&error);

  g_assert_false (odd_pg_exec (conn, "SELEC 1", &error));
  g_assert_error (error, ODD_PG_ERROR, ODD_PG_ERROR_QUERY);
  g_assert_nonnull (strstr (error->message, "syntax error"));
  g_assert_cmpstr (odd_pg_error_get_sqlstate (error), ==, "42601");
  g_clear_error (&error);

  /* a year PostgreSQL cannot hold, and a btree row past its limit: the data's fault */
  g_assert_false (odd_pg_exec (conn, "SELECT '0000-01-01T00:00:00Z'::timestamptz", &error));
  g_assert_cmpstr (odd_pg_error_get_sqlstate (error), ==, "22008");
  g_assert_cmpint (odd_pg_error_get_failure (error), ==, ODD_PG_FAILURE_DATA);
  g_clear_error (&error);
  g_assert_false (odd_pg_exec (conn, "INSERT INTO jobs (id, type, status) "
                                     "SELECT gen_random_uuid (), string_agg (md5 (i::text), ''), 'PENDING' "
                                     "FROM generate_series (1, 300) i", &error));
  g_assert_cmpstr (odd_pg_error_get_sqlstate (error), ==, "54000");
  g_assert_cmpint (odd_pg_error_get_failure (error), ==, ODD_PG_FAILURE_DATA);
  g_clear_error (&error);

  /* a copy keeps what the server said */
  {
    g_autoptr(GError) copy = NULL;

    g_assert_false (odd_pg_exec (conn, "SELECT 1/0", &error));
    copy = g_error_copy (error);
    g_assert_cmpstr (odd_pg_error_get_sqlstate (copy), ==, "22012");
    g_assert_cmpint (odd_pg_error_get_failure (copy), ==, ODD_PG_FAILURE_DATA);
    g_clear_error (&error);
  }

  /* the connection is still usable after errors */
  g_assert_true (odd_pg_exec (conn, "SELECT 1", &error));
  g_assert_no_error (error);
  drop_scratch (conn, "odd_test_query");
}

static gpointer
other_thread_conn (gpointer data)
{
  return odd_pg_thread_conn (data, NULL);
}

static void
test_thread_conn (void)
{
  g_autoptr(GError) error = NULL;
  PGconn *a, *b, *c;
  GThread *thread;

  if (pg_url () == NULL)
    return;
  a = odd_pg_thread_conn (pg_url (), &error);
  g_assert_no_error (error);
  b = odd_pg_thread_conn (pg_url (), &error);
  g_assert_true (a == b);
  thread = g_thread_new ("other", other_thread_conn, (gpointer) pg_url ());
  c = g_thread_join (thread);
  g_assert_nonnull (c);
  g_assert_true (c != a);

  g_assert_null (odd_pg_thread_conn ("postgresql://postgres@127.0.0.1:1/none", &error));
  g_assert_error (error, ODD_PG_ERROR, ODD_PG_ERROR_CONNECT);
}

static void
test_thread_conn_reset (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PGconn) killer = NULL;
  g_autoptr(PGresult) killed = NULL;
  g_autofree char *pid = NULL;
  const char *params[1];
  PGconn *conn;
  PGresult *res;

  if (pg_url () == NULL)
    return;
  conn = odd_pg_thread_conn (pg_url (), &error);
  g_assert_no_error (error);
  pid = g_strdup_printf ("%d", PQbackendPID (conn));

  /* the server drops the session (a restart, an admin) */
  killer = odd_pg_connect (pg_url (), &error);
  g_assert_no_error (error);
  params[0] = pid;
  killed = odd_pg_query (killer, "SELECT pg_terminate_backend($1::integer)", 1, params, &error);
  g_assert_no_error (error);

  /* the next statement on it fails, as a lost connection ... */
  res = odd_pg_query (conn, "SELECT 1", 0, NULL, &error);
  g_assert_null (res);
  g_assert_error (error, ODD_PG_ERROR, ODD_PG_ERROR_QUERY);
  g_assert_cmpint (odd_pg_error_get_failure (error), ==, ODD_PG_FAILURE_CONNECTION);
  g_clear_error (&error);

  /* ... and the thread's connection is made again on the next use, with UTC again */
  conn = odd_pg_thread_conn (pg_url (), &error);
  g_assert_no_error (error);
  res = odd_pg_query (conn, "SHOW TimeZone", 0, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (PQgetvalue (res, 0, 0), ==, "UTC");
  PQclear (res);
}

static void
test_classify (void)
{
  static const struct {
    const char   *sqlstate;
    OddPgFailure  failure;
  } cases[] = {
    { NULL, ODD_PG_FAILURE_CONNECTION },
    { "", ODD_PG_FAILURE_CONNECTION },
    { "08006", ODD_PG_FAILURE_CONNECTION },
    { "57P01", ODD_PG_FAILURE_CONNECTION },
    { "57P03", ODD_PG_FAILURE_CONNECTION },
    { "40001", ODD_PG_FAILURE_TRANSIENT },
    { "40P01", ODD_PG_FAILURE_TRANSIENT },
    { "53100", ODD_PG_FAILURE_TRANSIENT },
    { "57014", ODD_PG_FAILURE_TRANSIENT },
    { "55P03", ODD_PG_FAILURE_TRANSIENT },
    { "XX000", ODD_PG_FAILURE_TRANSIENT },
    { "22008", ODD_PG_FAILURE_DATA },
    { "22P02", ODD_PG_FAILURE_DATA },
    { "23505", ODD_PG_FAILURE_DATA },
    { "42601", ODD_PG_FAILURE_DATA },
    { "54000", ODD_PG_FAILURE_DATA },
    { "P0001", ODD_PG_FAILURE_DATA },
  };
  g_autoptr(GError) other = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "not ours");

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    g_assert_cmpint (odd_pg_classify_sqlstate (cases[i].sqlstate), ==, cases[i].failure);

  g_assert_cmpint (odd_pg_error_get_failure (other), ==, ODD_PG_FAILURE_TRANSIENT);
  g_assert_null (odd_pg_error_get_sqlstate (other));
}

static void
test_statement_timeout (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PGconn) conn = NULL;
  g_autoptr(PGresult) shown = NULL;

  if (pg_url () == NULL)
    return;

  conn = odd_pg_connect (pg_url (), &error);
  g_assert_no_error (error);
  shown = odd_pg_query (conn, "SHOW statement_timeout", 0, NULL, &error);
  g_assert_cmpstr (PQgetvalue (shown, 0, 0), ==, "30s");
  g_clear_pointer (&conn, PQfinish);

  g_setenv ("ODD_PG_STATEMENT_TIMEOUT_MS", "200", TRUE);
  conn = odd_pg_connect (pg_url (), &error);
  g_assert_no_error (error);
  g_assert_false (odd_pg_exec (conn, "SELECT pg_sleep (30)", &error));
  g_assert_cmpstr (odd_pg_error_get_sqlstate (error), ==, "57014");
  g_assert_cmpint (odd_pg_error_get_failure (error), ==, ODD_PG_FAILURE_TRANSIENT);
  g_clear_error (&error);
  g_clear_pointer (&conn, PQfinish);

  g_setenv ("ODD_PG_STATEMENT_TIMEOUT_MS", "soon", TRUE);
  g_assert_null (odd_pg_connect (pg_url (), &error));
  g_assert_nonnull (strstr (error->message, "ODD_PG_STATEMENT_TIMEOUT_MS"));
  g_unsetenv ("ODD_PG_STATEMENT_TIMEOUT_MS");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/pg/connect-errors", test_connect_errors);
  g_test_add_func ("/pg/connect-settings", test_connect_settings);
  g_test_add_func ("/pg/migrate-twice", test_migrate_twice);
  g_test_add_func ("/pg/migrate-concurrently", test_migrate_concurrently);
  g_test_add_func ("/pg/query-errors", test_query_errors);
  g_test_add_func ("/pg/thread-conn", test_thread_conn);
  g_test_add_func ("/pg/thread-conn-reset", test_thread_conn_reset);
  g_test_add_func ("/pg/classify", test_classify);
  g_test_add_func ("/pg/statement-timeout", test_statement_timeout);
  return g_test_run ();
}
