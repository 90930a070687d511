/* odd-pg.h: PostgreSQL helpers and the shared schema migrations */
#pragma once

#include <glib.h>
#include <libpq-fe.h>

G_BEGIN_DECLS

#define ODD_PG_ERROR (odd_pg_error_quark ())
GQuark odd_pg_error_quark (void);

typedef enum {
  ODD_PG_ERROR_CONNECT,
  ODD_PG_ERROR_QUERY,
  ODD_PG_ERROR_CONFLICT,   /* unique violation */
} OddPgError;

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PGresult, PQclear)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PGconn, PQfinish)

/* Connects (10 s timeout), sets the session time zone to UTC. */
PGconn   *odd_pg_connect        (const char  *url,
                                 GError     **error);
/* Applies the migrations not yet applied, under an advisory lock (safe with several services). */
gboolean  odd_pg_migrate        (PGconn      *conn,
                                 GError     **error);
/* The highest migration version this build knows. */
int       odd_pg_schema_version (void);

gboolean  odd_pg_exec           (PGconn      *conn,
                                 const char  *sql,
                                 GError     **error);
/* Runs a parameterised statement (text parameters); returns the result on
 * PGRES_TUPLES_OK / PGRES_COMMAND_OK, else NULL and @error. */
PGresult *odd_pg_query          (PGconn             *conn,
                                 const char         *sql,
                                 int                 n_params,
                                 const char *const  *values,
                                 GError            **error);
/* TRUE when the connection is usable; else tries one reset. */
gboolean  odd_pg_ensure         (PGconn      *conn);

/* A connection owned by the calling thread (for deferred HTTP work), made from @url on first
 * use and reset when broken. NULL + error when the server is unreachable. */
PGconn   *odd_pg_thread_conn    (const char  *url,
                                 GError     **error);

G_END_DECLS
