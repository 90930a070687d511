#define G_LOG_DOMAIN "odd-pg"

#include "odd-pg.h"

#include <string.h>

G_DEFINE_QUARK (odd-pg-error-quark, odd_pg_error)

/* libpq messages end in a newline and may span lines; a GError is one line. */
static char *
one_line (const char *message)
{
  g_autofree char *copy = g_strdup (message != NULL && *message != '\0' ? message : "unknown error");

  g_strstrip (copy);
  for (char *p = copy; *p != '\0'; p++)
    if (*p == '\n' || *p == '\t')
      *p = ' ';
  return g_steal_pointer (&copy);
}

/* libpq prints notices ("relation already exists, skipping") straight to stderr, which would
 * break the one-JSON-object-a-line log; route them through GLib instead. */
static void
notice_processor (void       *arg,
                  const char *message)
{
  g_autofree char *line = one_line (message);

  g_debug ("PostgreSQL: %s", line);
}

PGconn *
odd_pg_connect (const char  *url,
                GError     **error)
{
  g_autoptr(GPtrArray) keywords = g_ptr_array_new ();
  g_autoptr(GPtrArray) values = g_ptr_array_new ();
  g_autoptr(PGconn) conn = NULL;
  g_autoptr(PGresult) result = NULL;
  PQconninfoOption *options;
  char *parse_error = NULL;
  gboolean has_timeout = FALSE;
  gboolean has_encoding = FALSE;
  gboolean has_app_name = FALSE;

  g_return_val_if_fail (url != NULL, NULL);

  /* Parsing (both the URL and the key=value forms) lets us add what is missing without
   * string surgery on a URL that may already carry a query string. */
  options = PQconninfoParse (url, &parse_error);
  if (options == NULL)
    {
      g_autofree char *msg = one_line (parse_error);

      g_set_error (error, ODD_PG_ERROR, ODD_PG_ERROR_CONNECT,
                   "Invalid PostgreSQL URL: %s", parse_error != NULL ? msg : "out of memory");
      PQfreemem (parse_error);
      return NULL;
    }

  for (PQconninfoOption *o = options; o->keyword != NULL; o++)
    {
      if (o->val == NULL)
        continue;
      if (strcmp (o->keyword, "connect_timeout") == 0)
        has_timeout = TRUE;
      else if (strcmp (o->keyword, "client_encoding") == 0)
        has_encoding = TRUE;
      else if (strcmp (o->keyword, "application_name") == 0)
        has_app_name = TRUE;
      g_ptr_array_add (keywords, o->keyword);
      g_ptr_array_add (values, o->val);
    }
  if (!has_timeout)
    {
      g_ptr_array_add (keywords, (gpointer) "connect_timeout");
      g_ptr_array_add (values, (gpointer) "10");
    }
  if (!has_encoding)
    {
      g_ptr_array_add (keywords, (gpointer) "client_encoding");
      g_ptr_array_add (values, (gpointer) "UTF8");
    }
  if (!has_app_name && g_get_prgname () != NULL)
    {
      g_ptr_array_add (keywords, (gpointer) "application_name");
      g_ptr_array_add (values, (gpointer) g_get_prgname ());
    }
  g_ptr_array_add (keywords, NULL);
  g_ptr_array_add (values, NULL);

  conn = PQconnectdbParams ((const char *const *) keywords->pdata,
                            (const char *const *) values->pdata, 0);
  PQconninfoFree (options);

  if (conn == NULL || PQstatus (conn) != CONNECTION_OK)
    {
      g_autofree char *msg = one_line (conn != NULL ? PQerrorMessage (conn) : NULL);

      g_set_error (error, ODD_PG_ERROR, ODD_PG_ERROR_CONNECT,
                   "Cannot connect to PostgreSQL: %s", msg);
      return NULL;
    }

  PQsetNoticeProcessor (conn, notice_processor, NULL);

  /* Timestamps are stored and shown in UTC, whatever the server's default. */
  if (!odd_pg_exec (conn, "SET TIME ZONE 'UTC'", error))
    return NULL;

  return g_steal_pointer (&conn);
}

static gboolean
check_result (PGconn     *conn,
              PGresult   *result,
              const char *sql,
              GError    **error)
{
  ExecStatusType status = result != NULL ? PQresultStatus (result) : PGRES_FATAL_ERROR;
  const char *sqlstate;
  g_autofree char *msg = NULL;

  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK)
    return TRUE;

  msg = one_line (result != NULL ? PQresultErrorMessage (result) : PQerrorMessage (conn));
  sqlstate = result != NULL ? PQresultErrorField (result, PG_DIAG_SQLSTATE) : NULL;
  g_set_error (error, ODD_PG_ERROR,
               g_strcmp0 (sqlstate, "23505") == 0 ? ODD_PG_ERROR_CONFLICT : ODD_PG_ERROR_QUERY,
               "%s", msg);
  return FALSE;
}

gboolean
odd_pg_exec (PGconn      *conn,
             const char  *sql,
             GError     **error)
{
  g_autoptr(PGresult) result = NULL;

  g_return_val_if_fail (conn != NULL, FALSE);
  g_return_val_if_fail (sql != NULL, FALSE);

  result = PQexec (conn, sql);
  return check_result (conn, result, sql, error);
}

PGresult *
odd_pg_query (PGconn             *conn,
              const char         *sql,
              int                 n_params,
              const char *const  *values,
              GError            **error)
{
  g_autoptr(PGresult) result = NULL;

  g_return_val_if_fail (conn != NULL, NULL);
  g_return_val_if_fail (sql != NULL, NULL);
  g_return_val_if_fail (n_params == 0 || values != NULL, NULL);

  result = PQexecParams (conn, sql, n_params, NULL, values, NULL, NULL, 0);
  if (!check_result (conn, result, sql, error))
    return NULL;
  return g_steal_pointer (&result);
}

gboolean
odd_pg_ensure (PGconn *conn)
{
  g_return_val_if_fail (conn != NULL, FALSE);

  if (PQstatus (conn) == CONNECTION_OK)
    return TRUE;

  /* PQreset keeps the original parameters; the session settings must be made again. */
  PQreset (conn);
  if (PQstatus (conn) != CONNECTION_OK)
    return FALSE;
  return odd_pg_exec (conn, "SET TIME ZONE 'UTC'", NULL);
}

static void
free_conn (gpointer data)
{
  PQfinish (data);
}

/* url → PGconn of the current thread; freed when the thread exits. */
static GPrivate thread_conns = G_PRIVATE_INIT ((GDestroyNotify) g_hash_table_unref);

PGconn *
odd_pg_thread_conn (const char  *url,
                    GError     **error)
{
  GHashTable *conns = g_private_get (&thread_conns);
  PGconn *conn;

  g_return_val_if_fail (url != NULL, NULL);

  if (conns == NULL)
    {
      conns = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, free_conn);
      g_private_set (&thread_conns, conns);
    }

  conn = g_hash_table_lookup (conns, url);
  if (conn != NULL)
    {
      if (odd_pg_ensure (conn))
        return conn;
      /* Still down: drop it so that the next call dials afresh (the server may have moved). */
      g_hash_table_remove (conns, url);
    }

  conn = odd_pg_connect (url, error);
  if (conn == NULL)
    return NULL;
  g_hash_table_insert (conns, g_strdup (url), conn);
  return conn;
}
