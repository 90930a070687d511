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

/* What a failed statement means for the caller; every ODD_PG_ERROR carries one. */
typedef enum {
  ODD_PG_FAILURE_CONNECTION, /* the session is gone (class 08, 57P0x, no SQLSTATE, connection
                              * not OK): reconnect, the work is redone from the start */
  ODD_PG_FAILURE_TRANSIENT,  /* the statement may pass if run again (40001, 40P01, 53xxx,
                              * 57014 statement timeout, 55P03, 58xxx, anything unknown) */
  ODD_PG_FAILURE_DATA,       /* the server refuses these values (classes 21, 22, 23, 27, 38,
                              * 39, 42, 44, 54, P0 raised by a trigger): the same data fails
                              * again, so isolate it */
} OddPgFailure;

/* The advisory lock every writer of job_events holds until its transaction ends (migration 4
 * takes it in a trigger; the metrics-engine takes it first, odd-event-store.c): seqs commit in
 * the order they are handed out. ASCII "oddmetri", the session lock of the one metrics-engine
 * of before replicas: such an engine still running blocks the new ones instead of interleaving
 * its seqs with theirs. */
#define ODD_PG_EVENT_STORE_LOCK_KEY "8026650856897409641"

/* Default of $ODD_PG_STATEMENT_TIMEOUT_MS, set on every connection. */
#define ODD_PG_DEFAULT_STATEMENT_TIMEOUT_MS 30000

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PGresult, PQclear)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PGconn, PQfinish)

/* Connects (10 s timeout), sets the session time zone to UTC and statement_timeout to
 * $ODD_PG_STATEMENT_TIMEOUT_MS (default 30 s, 0 = none). */
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
/* The class of a SQLSTATE (five characters; NULL = none was given: CONNECTION). */
OddPgFailure odd_pg_classify_sqlstate (const char   *sqlstate);
/* The class of an error from this file's functions; another error is TRANSIENT. */
OddPgFailure odd_pg_error_get_failure (const GError *error);
/* The SQLSTATE of an ODD_PG_ERROR the server gave, else NULL. */
const char  *odd_pg_error_get_sqlstate (const GError *error);

/* TRUE when the connection is usable; else tries one reset. */
gboolean  odd_pg_ensure         (PGconn      *conn);

/* A connection owned by the calling thread (for deferred HTTP work), made from @url on first
 * use and reset when broken. NULL + error when the server is unreachable. */
PGconn   *odd_pg_thread_conn    (const char  *url,
                                 GError     **error);

G_END_DECLS
