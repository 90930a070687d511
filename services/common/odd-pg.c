#define G_LOG_DOMAIN "odd-pg"

#include "odd-pg.h"

#include <string.h>

#include "odd-config.h"

/* The error carries what the server said: its SQLSTATE and what it means for the caller. */
typedef struct {
  char         sqlstate[6];
  OddPgFailure failure;
} OddPgErrorPrivate;

static void
odd_pg_error_private_init (OddPgErrorPrivate *priv)
{
  priv->sqlstate[0] = '\0';
  priv->failure = ODD_PG_FAILURE_TRANSIENT;
}

static void
odd_pg_error_private_copy (const OddPgErrorPrivate *src,
                           OddPgErrorPrivate       *dest)
{
  *dest = *src;
}

static void
odd_pg_error_private_clear (OddPgErrorPrivate *priv)
{
}

G_DEFINE_EXTENDED_ERROR (OddPgError, odd_pg_error)

OddPgFailure
odd_pg_classify_sqlstate (const char *sqlstate)
{
  static const char *const data_classes[] = {
    "21", "22", "23", "27", "38", "39", "42", "44", "54", "P0", NULL,
  };

  if (sqlstate == NULL || strlen (sqlstate) != 5)
    return ODD_PG_FAILURE_CONNECTION;
  if (strncmp (sqlstate, "08", 2) == 0 || strcmp (sqlstate, "57P01") == 0
      || strcmp (sqlstate, "57P02") == 0 || strcmp (sqlstate, "57P03") == 0)
    return ODD_PG_FAILURE_CONNECTION;
  for (guint i = 0; data_classes[i] != NULL; i++)
    if (strncmp (sqlstate, data_classes[i], 2) == 0)
      return ODD_PG_FAILURE_DATA;
  /* 40001 serialization, 40P01 deadlock, 53xxx resources, 57014 statement timeout, 55P03
   * lock timeout, 58xxx system errors, XX internal errors: nothing says the data is wrong. */
  return ODD_PG_FAILURE_TRANSIENT;
}

OddPgFailure
odd_pg_error_get_failure (const GError *error)
{
  if (error == NULL || error->domain != ODD_PG_ERROR)
    return ODD_PG_FAILURE_TRANSIENT;
  if (error->code == ODD_PG_ERROR_CONNECT)
    return ODD_PG_FAILURE_CONNECTION;
  return odd_pg_error_get_private (error)->failure;
}

const char *
odd_pg_error_get_sqlstate (const GError *error)
{
  OddPgErrorPrivate *priv;

  if (error == NULL || error->domain != ODD_PG_ERROR)
    return NULL;
  priv = odd_pg_error_get_private (error);
  return priv->sqlstate[0] != '\0' ? priv->sqlstate : NULL;
}

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

static gboolean
setup_session (PGconn  *conn,
               GError **error)
{
  g_autofree char *timeout_sql = NULL;
  gint64 timeout_ms;

  if (!odd_config_int ("ODD_PG_STATEMENT_TIMEOUT_MS", ODD_PG_DEFAULT_STATEMENT_TIMEOUT_MS, 0,
                       G_MAXINT32, &timeout_ms, error))
    return FALSE;

  /* Timestamps are stored and shown in UTC, whatever the server's default. */
  if (!odd_pg_exec (conn, "SET TIME ZONE 'UTC'", error))
    return FALSE;

  /* No statement may hold a worker (and every message behind it) for ever. */
  timeout_sql = g_strdup_printf ("SET statement_timeout = %" G_GINT64_FORMAT, timeout_ms);
  return odd_pg_exec (conn, timeout_sql, error);
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

  if (!setup_session (conn, error))
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
  if (error != NULL)
    {
      OddPgErrorPrivate *priv = odd_pg_error_get_private (*error);

      if (sqlstate != NULL && strlen (sqlstate) == 5)
        memcpy (priv->sqlstate, sqlstate, 6);
      /* A lost session can still hand back a SQLSTATE of its last words: the status decides. */
      priv->failure = PQstatus (conn) != CONNECTION_OK ? ODD_PG_FAILURE_CONNECTION
                                                       : odd_pg_classify_sqlstate (sqlstate);
    }
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
  return setup_session (conn, NULL);
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
