/* odd-it-load.h: load while a fault lands, and the checks once it has drained
 *
 * A submitter thread POSTs jobs until stopped and sorts every answer: accepted (202), refused
 * (503: a promise that the job does not exist) or ambiguous (a transport error or another 5xx:
 * the job may or may not exist). odd_it_assert_settled() then waits until every accepted job is
 * terminal and the stack agrees exactly (odd_it_assert_agreement()).
 */
#pragma once

#include "odd-it.h"

G_BEGIN_DECLS

typedef struct {
  OddIt              *it;
  const char         *type;
  const char * const *simulates;  /* cycled through, one per job; NULL: no simulate */
  GThread            *thread;
  gint                stop;
  GMutex              lock;
  GPtrArray          *accepted;   /* job ids (char *) answered 202 */
  GPtrArray          *refused;    /* 503 */
  GPtrArray          *ambiguous;  /* transport error or 5xx other than 503 */
  guint               other;      /* any other answer (a test failure) */
} OddItSubmitter;

/* Starts submitting jobs of @type; @simulates: payload.simulate texts (NULL-terminated). */
OddItSubmitter *odd_it_submitter_start         (OddIt              *it,
                                                const char         *type,
                                                const char * const *simulates);
guint           odd_it_submitter_accepted      (OddItSubmitter     *s);
/* Waits until @n jobs are accepted in all; aborts the test after @timeout_s (scaled). */
void            odd_it_submitter_wait_accepted (OddItSubmitter     *s,
                                                guint               n,
                                                guint               timeout_s);
/* Stops and joins the thread; the arrays are final afterwards. */
void            odd_it_submitter_stop          (OddItSubmitter     *s);
void            odd_it_submitter_free          (OddItSubmitter     *s);

/* "{id,id,...}": a PostgreSQL uuid[] literal. */
char           *odd_it_uuid_array              (GPtrArray          *ids);
/* odd_it_pg_int() with @ids as $1 (a uuid[]). */
gint64          odd_it_count_in                (PGconn             *conn,
                                                const char         *sql,
                                                GPtrArray          *ids);
/* Waits until every @accepted job is in the table and terminal, nothing is open and /stats
 * says the same, then asserts the exact agreement of the stores. */
void            odd_it_assert_settled          (OddIt              *it,
                                                GPtrArray          *accepted,
                                                guint               timeout_s);

G_END_DECLS
