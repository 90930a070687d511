#define G_LOG_DOMAIN "odd-event-store"

#include "odd-event-store.h"

#include <gio/gio.h>

#include "odd-pg.h"

gboolean
odd_event_store_insert (PGconn     *conn,
                        GPtrArray  *envelopes,
                        GPtrArray  *event_ids,
                        GArray     *seqs,
                        GError    **error)
{
  g_autoptr(GString) batch = NULL;
  g_autoptr(PGresult) res = NULL;
  g_autoptr(GHashTable) index = NULL;
  const char *params[1];
  guint base = seqs->len;
  int n;

  g_return_val_if_fail (envelopes->len == event_ids->len, FALSE);

  g_array_set_size (seqs, base + envelopes->len);
  for (guint i = 0; i < envelopes->len; i++)
    g_array_index (seqs, gint64, base + i) = 0;
  if (envelopes->len == 0)
    return TRUE;

  batch = g_string_sized_new (1024 * envelopes->len + 2);
  g_string_append_c (batch, '[');
  for (guint i = 0; i < envelopes->len; i++)
    {
      if (i > 0)
        g_string_append_c (batch, ',');
      g_string_append (batch, envelopes->pdata[i]);
    }
  g_string_append_c (batch, ']');
  params[0] = batch->str;

  /* One jsonb array parameter: no array-literal escaping; ORDER BY the ordinality makes seq
   * follow the delivery order. */
  res = odd_pg_query (conn,
                      "INSERT INTO job_events (event_id, job_id, event_type, occurred_at, received_at, envelope) "
                      "SELECT (e->>'eventId')::uuid, (e->'payload'->>'id')::uuid, e->>'eventType', "
                      "       (e->>'occurredAt')::timestamptz, now(), e "
                      "FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS t(e, i) "
                      "ORDER BY i "
                      "ON CONFLICT (event_id) DO NOTHING "
                      "RETURNING seq, event_id::text",
                      1, params, error);
  if (res == NULL)
    return FALSE;

  /* event id → its first position in the batch (a second copy in the same batch stays 0). */
  index = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = envelopes->len; i-- > 0;)
    g_hash_table_insert (index, event_ids->pdata[i], GUINT_TO_POINTER (i + 1));

  n = PQntuples (res);
  for (int row = 0; row < n; row++)
    {
      gint64 seq = g_ascii_strtoll (PQgetvalue (res, row, 0), NULL, 10);
      guint position = GPOINTER_TO_UINT (g_hash_table_lookup (index, PQgetvalue (res, row, 1)));

      if (position == 0)
        {
          /* Stored but not matched: the caller rolls the transaction back. */
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "job_events returned event %s, which is not in the batch",
                       PQgetvalue (res, row, 1));
          return FALSE;
        }
      g_array_index (seqs, gint64, base + position - 1) = seq;
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
odd_event_store_begin (PGconn  *conn,
                       gint64  *prev,
                       GError **error)
{
  g_autoptr(PGresult) locked = NULL;

  if (!odd_pg_exec (conn, "BEGIN", error))
    return FALSE;
  /* max(seq) in a statement of its own: its snapshot is taken after the lock is held, so it
   * sees the commit of the writer this one waited for. */
  locked = odd_pg_query (conn, "SELECT pg_advisory_xact_lock(" ODD_PG_EVENT_STORE_LOCK_KEY ")",
                         0, NULL, error);
  if (locked == NULL || !odd_event_store_max_seq (conn, prev, error))
    {
      odd_event_store_rollback (conn);
      return FALSE;
    }
  return TRUE;
}

gboolean
odd_event_store_commit (PGconn  *conn,
                        GError **error)
{
  return odd_pg_exec (conn, "COMMIT", error);
}

void
odd_event_store_rollback (PGconn *conn)
{
  /* A broken connection has nothing to roll back: the server ends the transaction itself. */
  if (PQstatus (conn) == CONNECTION_OK && PQtransactionStatus (conn) != PQTRANS_IDLE)
    odd_pg_exec (conn, "ROLLBACK", NULL);
}

gboolean
odd_event_store_try_replay_lock (PGconn    *conn,
                                 gboolean  *acquired,
                                 GError   **error)
{
  g_autoptr(PGresult) res = odd_pg_query (conn,
                                          "SELECT pg_try_advisory_lock(" ODD_EVENT_STORE_REPLAY_LOCK_KEY ")",
                                          0, NULL, error);

  if (res == NULL)
    return FALSE;
  *acquired = g_str_equal (PQgetvalue (res, 0, 0), "t");
  return TRUE;
}

gboolean
odd_event_store_replay_unlock (PGconn  *conn,
                               GError **error)
{
  g_autoptr(PGresult) res = odd_pg_query (conn,
                                          "SELECT pg_advisory_unlock(" ODD_EVENT_STORE_REPLAY_LOCK_KEY ")",
                                          0, NULL, error);

  return res != NULL;
}

gboolean
odd_event_store_dead_letter (PGconn      *conn,
                             const char  *queue,
                             const char  *reason,
                             const char  *job_id,
                             const char  *correlation_id,
                             const char  *message_key,
                             const char  *message_json,
                             GError     **error)
{
  const char *params[] = { queue, reason, job_id, correlation_id, message_key, message_json };
  g_autoptr(PGresult) res = odd_pg_query (conn,
                                          "INSERT INTO dead_letters "
                                          "(queue, reason, job_id, correlation_id, message_key, "
                                          " message, dead_at) "
                                          "VALUES ($1, $2, $3::uuid, $4, $5, $6::jsonb, now()) "
                                          "ON CONFLICT (queue, message_key) DO NOTHING",
                                          6, params, error);

  return res != NULL;
}
