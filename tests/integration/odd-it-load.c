#define G_LOG_DOMAIN "odd-it-load"

#include "odd-it-load.h"

#include <string.h>

#include "odd-contracts.h"

static gpointer
submit_loop (gpointer data)
{
  OddItSubmitter *s = data;
  g_autofree char *url = g_strconcat (odd_it_gateway_url (s->it), "/jobs", NULL);
  guint n = s->simulates != NULL ? g_strv_length ((char **) s->simulates) : 0;

  for (guint i = 0; !g_atomic_int_get (&s->stop); i++)
    {
      g_autofree char *id = odd_uuid_new ();
      g_autofree char *body = odd_it_job_body (id, s->type, n > 0 ? s->simulates[i % n] : NULL);
      g_autoptr (OddItResponse) r = odd_it_request ("POST", url, "application/json", body,
                                                    strlen (body));

      g_mutex_lock (&s->lock);
      if (r->status == 202)
        g_ptr_array_add (s->accepted, g_steal_pointer (&id));
      else if (r->status == 503)
        g_ptr_array_add (s->refused, g_steal_pointer (&id));
      else if (r->status == 0 || r->status >= 500)
        g_ptr_array_add (s->ambiguous, g_steal_pointer (&id));
      else
        {
          g_test_message ("unexpected answer %u to POST /jobs", r->status);
          s->other++;
        }
      g_mutex_unlock (&s->lock);
      if (r->status != 202)
        g_usleep (20 * 1000);  /* do not spin while a server is away */
    }
  return NULL;
}

OddItSubmitter *
odd_it_submitter_start (OddIt              *it,
                        const char         *type,
                        const char * const *simulates)
{
  OddItSubmitter *s = g_new0 (OddItSubmitter, 1);

  s->it = it;
  s->type = type;
  s->simulates = simulates;
  g_mutex_init (&s->lock);
  s->accepted = g_ptr_array_new_with_free_func (g_free);
  s->refused = g_ptr_array_new_with_free_func (g_free);
  s->ambiguous = g_ptr_array_new_with_free_func (g_free);
  s->thread = g_thread_new ("submitter", submit_loop, s);
  return s;
}

guint
odd_it_submitter_accepted (OddItSubmitter *s)
{
  guint n;

  g_mutex_lock (&s->lock);
  n = s->accepted->len;
  g_mutex_unlock (&s->lock);
  return n;
}

void
odd_it_submitter_wait_accepted (OddItSubmitter *s,
                                guint           n,
                                guint           timeout_s)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) odd_it_time_scale () * timeout_s * G_USEC_PER_SEC;

  while (odd_it_submitter_accepted (s) < n)
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("only %u jobs accepted in %u s", odd_it_submitter_accepted (s), timeout_s);
      g_usleep (10 * 1000);
    }
}

void
odd_it_submitter_stop (OddItSubmitter *s)
{
  if (s->thread == NULL)
    return;
  g_atomic_int_set (&s->stop, 1);
  g_thread_join (g_steal_pointer (&s->thread));
}

void
odd_it_submitter_free (OddItSubmitter *s)
{
  if (s == NULL)
    return;
  odd_it_submitter_stop (s);
  g_ptr_array_unref (s->accepted);
  g_ptr_array_unref (s->refused);
  g_ptr_array_unref (s->ambiguous);
  g_mutex_clear (&s->lock);
  g_free (s);
}

char *
odd_it_uuid_array (GPtrArray *ids)
{
  GString *s = g_string_new ("{");

  for (guint i = 0; i < ids->len; i++)
    {
      if (i > 0)
        g_string_append_c (s, ',');
      g_string_append (s, ids->pdata[i]);
    }
  g_string_append_c (s, '}');
  return g_string_free (s, FALSE);
}

gint64
odd_it_count_in (PGconn     *conn,
                 const char *sql,
                 GPtrArray  *ids)
{
  g_autofree char *array = odd_it_uuid_array (ids);

  return odd_it_pg_int (conn, sql, array);
}

static gboolean
all_settled (OddIt   *it,
             gpointer data)
{
  GPtrArray *accepted = data;
  PGconn *conn = odd_it_pg (it);
  gint64 terminal = odd_it_count_in (conn, "SELECT count(*) FROM jobs WHERE id = ANY($1::uuid[])"
                                     " AND status IN ('COMPLETED', 'FAILED')", accepted);
  gint64 rows = odd_it_pg_int (conn, "SELECT count(*) FROM jobs", NULL);
  gint64 open = odd_it_pg_int (conn, "SELECT count(*) FROM jobs WHERE status NOT IN ('COMPLETED', 'FAILED')", NULL);
  OddItStats stats;

  PQfinish (conn);
  if (terminal != accepted->len || open != 0)
    return FALSE;
  odd_it_get_stats (it, &stats);
  return stats.total == rows && stats.in_flight == 0 && stats.completed + stats.failed == rows;
}

void
odd_it_assert_settled (OddIt     *it,
                       GPtrArray *accepted,
                       guint      timeout_s)
{
  if (!odd_it_wait (it, all_settled, accepted, timeout_s, 250))
    {
      PGconn *conn = odd_it_pg (it);
      gint64 present = odd_it_count_in (conn, "SELECT count(*) FROM jobs WHERE id = ANY($1::uuid[])", accepted);
      gint64 open = odd_it_pg_int (conn, "SELECT count(*) FROM jobs WHERE status NOT IN ('COMPLETED', 'FAILED')", NULL);
      gint64 rows = odd_it_pg_int (conn, "SELECT count(*) FROM jobs", NULL);
      OddItStats stats;

      PQfinish (conn);
      odd_it_get_stats (it, &stats);
      g_error ("not settled after %u s: %" G_GINT64_FORMAT " of %u accepted jobs in the table, %"
               G_GINT64_FORMAT " rows, %" G_GINT64_FORMAT " not terminal; /stats total %"
               G_GINT64_FORMAT " completed %" G_GINT64_FORMAT " failed %" G_GINT64_FORMAT
               " inFlight %" G_GINT64_FORMAT,
               timeout_s, present, accepted->len, rows, open, stats.total, stats.completed,
               stats.failed, stats.in_flight);
    }
  odd_it_assert_agreement (it, -1);
}
