#define G_LOG_DOMAIN "odd-event-store"

#include "odd-event-store.h"

#include <stdlib.h>

#include "odd-pg.h"

gboolean
odd_event_store_insert (PGconn     *conn,
                        GPtrArray  *envelopes,
                        GArray     *seqs,
                        GError    **error)
{
  g_autoptr(GString) batch = g_string_sized_new (1024 * envelopes->len + 2);
  g_autoptr(PGresult) res = NULL;
  const char *params[1];
  guint base = seqs->len;
  int n;

  g_string_append_c (batch, '[');
  for (guint i = 0; i < envelopes->len; i++)
    {
      if (i > 0)
        g_string_append_c (batch, ',');
      g_string_append (batch, envelopes->pdata[i]);
    }
  g_string_append_c (batch, ']');
  params[0] = batch->str;

  g_array_set_size (seqs, base + envelopes->len);
  for (guint i = 0; i < envelopes->len; i++)
    g_array_index (seqs, gint64, base + i) = 0;

  if (envelopes->len == 0)
    return TRUE;

  /* One jsonb array parameter: no array-literal escaping; ORDER BY the ordinality makes seq
   * follow the delivery order. RETURNING cannot name the ordinality, so it is joined back
   * (the first copy of an id repeated within the batch gets the seq). */
  res = odd_pg_query (conn,
                      "WITH input AS ("
                      "  SELECT e, i FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS t(e, i)"
                      "), ins AS ("
                      "  INSERT INTO job_events (event_id, job_id, event_type, occurred_at, received_at, envelope)"
                      "  SELECT (e->>'eventId')::uuid, (e->'payload'->>'id')::uuid, e->>'eventType',"
                      "         (e->>'occurredAt')::timestamptz, now(), e"
                      "  FROM input ORDER BY i"
                      "  ON CONFLICT (event_id) DO NOTHING"
                      "  RETURNING seq, event_id"
                      ") "
                      "SELECT ins.seq, min(input.i) FROM ins JOIN input ON (input.e->>'eventId')::uuid = ins.event_id "
                      "GROUP BY ins.seq",
                      1, params, error);
  if (res == NULL)
    return FALSE;

  n = PQntuples (res);
  for (int row = 0; row < n; row++)
    {
      gint64 seq = g_ascii_strtoll (PQgetvalue (res, row, 0), NULL, 10);
      gint64 ordinal = g_ascii_strtoll (PQgetvalue (res, row, 1), NULL, 10);

      if (ordinal >= 1 && ordinal <= (gint64) envelopes->len)
        g_array_index (seqs, gint64, base + ordinal - 1) = seq;
    }
  return TRUE;
}

gboolean
odd_event_store_max_seq (PGconn  *conn,
                         gint64  *max_seq,
                         GError **error)
{
  g_autoptr(PGresult) res = odd_pg_query (conn, "SELECT coalesce(max(seq), 0) FROM job_events",
                                          0, NULL, error);

  if (res == NULL)
    return FALSE;
  *max_seq = g_ascii_strtoll (PQgetvalue (res, 0, 0), NULL, 10);
  return TRUE;
}

gboolean
odd_event_store_read_after (PGconn     *conn,
                            gint64      after,
                            guint       limit,
                            GArray     *seqs,
                            GPtrArray  *envelopes,
                            GError    **error)
{
  g_autofree char *after_str = g_strdup_printf ("%" G_GINT64_FORMAT, after);
  g_autofree char *limit_str = g_strdup_printf ("%u", limit);
  const char *params[] = { after_str, limit_str };
  g_autoptr(PGresult) res = odd_pg_query (conn,
                                          "SELECT seq, envelope::text FROM job_events "
                                          "WHERE seq > $1::bigint ORDER BY seq LIMIT $2::int",
                                          2, params, error);
  int n;

  if (res == NULL)
    return FALSE;
  n = PQntuples (res);
  for (int row = 0; row < n; row++)
    {
      gint64 seq = g_ascii_strtoll (PQgetvalue (res, row, 0), NULL, 10);

      g_array_append_val (seqs, seq);
      g_ptr_array_add (envelopes, g_strdup (PQgetvalue (res, row, 1)));
    }
  return TRUE;
}

gboolean
odd_event_store_try_lock (PGconn    *conn,
                          gboolean  *acquired,
                          GError   **error)
{
  g_autofree char *key = g_strdup_printf ("%" G_GINT64_FORMAT, ODD_EVENT_STORE_LOCK_KEY);
  const char *params[] = { key };
  g_autoptr(PGresult) res = odd_pg_query (conn, "SELECT pg_try_advisory_lock($1::bigint)",
                                          1, params, error);

  if (res == NULL)
    return FALSE;
  *acquired = g_str_equal (PQgetvalue (res, 0, 0), "t");
  return TRUE;
}

gboolean
odd_event_store_dead_letter (PGconn      *conn,
                             const char  *queue,
                             const char  *reason,
                             const char  *job_id,
                             const char  *correlation_id,
                             const char  *message_json,
                             GError     **error)
{
  const char *params[] = { queue, reason, job_id, correlation_id, message_json };
  g_autoptr(PGresult) res = odd_pg_query (conn,
                                          "INSERT INTO dead_letters "
                                          "(queue, reason, job_id, correlation_id, message, dead_at) "
                                          "VALUES ($1, $2, $3::uuid, $4, $5::jsonb, now())",
                                          5, params, error);

  return res != NULL;
}
