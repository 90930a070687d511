#define G_LOG_DOMAIN "odd-processor-batch"

#include "odd-processor-private.h"

#include <stdlib.h>

/* Each statement takes the whole batch as one jsonb array (jsonb_to_recordset), so a batch
 * of any size costs one round trip per statement. */

void
odd_processor_job_row_free (OddProcessorJobRow *row)
{
  if (row == NULL)
    return;
  g_free (row->id);
  g_free (row->type);
  g_clear_pointer (&row->payload, json_node_unref);
  g_free (row->payload_text);
  g_free (row->last_error);
  g_free (row->created_at);
  g_free (row);
}

void
odd_dead_letter_row_free (OddDeadLetterRow *row)
{
  if (row == NULL)
    return;
  g_free (row->queue);
  g_free (row->reason);
  g_free (row->job_id);
  g_free (row->correlation_id);
  g_free (row->message_key);
  g_clear_pointer (&row->message, json_node_unref);
  g_free (row);
}

static char *
builder_to_string (JsonBuilder *builder)
{
  g_autoptr(JsonNode) root = json_builder_get_root (builder);

  return odd_json_to_string (root);
}

static void
add_string_or_null (JsonBuilder *builder,
                    const char  *name,
                    const char  *value)
{
  json_builder_set_member_name (builder, name);
  if (value != NULL)
    json_builder_add_string_value (builder, value);
  else
    json_builder_add_null_value (builder);
}

/* What an OddProcessorJobRow holds, in row_from_result()'s order. */
#define ROW_COLUMNS \
  "j.id::text, j.type, j.status, j.payload::text, j.attempts, j.generation, j.last_error, " \
  "to_char(j.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), " \
  "greatest(0, (extract(epoch FROM clock_timestamp() - j.updated_at) * 1000)::bigint)"

/* One row of ROW_COLUMNS plus "inserted". */
static OddProcessorJobRow *
row_from_result (PGresult *result,
                 int       r)
{
  OddProcessorJobRow *row = g_new0 (OddProcessorJobRow, 1);
  g_autoptr(GError) parse_error = NULL;

  row->id = g_strdup (PQgetvalue (result, r, 0));
  row->type = g_strdup (PQgetvalue (result, r, 1));
  row->status = odd_job_status_intern (PQgetvalue (result, r, 2));
  if (row->status == NULL)
    row->status = "VALIDATED";
  row->payload = odd_json_parse (PQgetvalue (result, r, 3), -1, &parse_error);
  if (row->payload == NULL || !JSON_NODE_HOLDS_OBJECT (row->payload))
    {
      g_clear_pointer (&row->payload, json_node_unref);
      row->payload = json_node_new (JSON_NODE_OBJECT);
      json_node_take_object (row->payload, json_object_new ());
    }
  else
    row->payload_text = g_strdup (PQgetvalue (result, r, 3));
  row->attempts = atoi (PQgetvalue (result, r, 4));
  row->generation = atoi (PQgetvalue (result, r, 5));
  if (!PQgetisnull (result, r, 6))
    row->last_error = g_strdup (PQgetvalue (result, r, 6));
  row->created_at = g_strdup (PQgetvalue (result, r, 7));
  row->idle_ms = g_ascii_strtoll (PQgetvalue (result, r, 8), NULL, 10);
  row->inserted = PQgetvalue (result, r, 9)[0] == 't';
  return row;
}

static const char upsert_sql[] =
  "INSERT INTO jobs AS j (id, type, status, payload, attempts, generation, last_error, "
  "                       correlation_id, created_at, updated_at) "
  "SELECT x.id, x.type, 'VALIDATED', COALESCE(x.payload, '{}'::jsonb), 0, 0, NULL, "
  "       x.correlation_id, x.created_at, now() "
  "FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, type text, payload jsonb, "
  "                                        correlation_id text, created_at timestamptz) "
  /* A no-op update instead of DO NOTHING: it returns the existing row too and locks it
   * until the commit, so nobody changes it between our read and our update. */
  "ON CONFLICT (id) DO UPDATE SET status = j.status "
  "RETURNING " ROW_COLUMNS ", (j.xmax = 0)";

GHashTable *
odd_processor_db_upsert (PGconn     *conn,
                         GPtrArray  *intakes,
                         GError    **error)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(GHashTable) rows = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                                      (GDestroyNotify) odd_processor_job_row_free);
  g_autoptr(PGresult) result = NULL;
  g_autofree char *param = NULL;
  const char *values[1];

  json_builder_begin_array (builder);
  for (guint i = 0; i < intakes->len; i++)
    {
      OddProcessorIntake *intake = g_ptr_array_index (intakes, i);

      json_builder_begin_object (builder);
      add_string_or_null (builder, "id", intake->job_id);
      add_string_or_null (builder, "type", intake->type);
      json_builder_set_member_name (builder, "payload");
      json_builder_add_value (builder, json_node_copy (intake->payload));
      add_string_or_null (builder, "correlation_id", intake->correlation_id);
      add_string_or_null (builder, "created_at", intake->created_at);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);

  param = builder_to_string (builder);
  values[0] = param;
  result = odd_pg_query (conn, upsert_sql, 1, values, error);
  if (result == NULL)
    return NULL;

  for (int r = 0; r < PQntuples (result); r++)
    {
      OddProcessorJobRow *row = row_from_result (result, r);

      g_hash_table_replace (rows, row->id, row);
    }

  return g_steal_pointer (&rows);
}

static const char fail_sql[] =
  "UPDATE jobs AS j SET status = 'FAILED', last_error = $2, updated_at = now(), "
  "       finished_at = now() "
  "WHERE j.id = $1::uuid AND j.status NOT IN ('COMPLETED', 'FAILED') "
  "RETURNING " ROW_COLUMNS ", false";

OddProcessorJobRow *
odd_processor_db_fail (PGconn      *conn,
                       const char  *job_id,
                       const char  *last_error,
                       GError     **error)
{
  const char *values[] = { job_id, last_error };
  g_autoptr(PGresult) result = odd_pg_query (conn, fail_sql, 2, values, error);

  if (result == NULL || PQntuples (result) == 0)
    return NULL;
  return row_from_result (result, 0);
}

static const char update_sql[] =
  "UPDATE jobs AS j SET status = x.status, attempts = x.attempts, generation = x.generation, "
  "       last_error = x.last_error, updated_at = now(), "
  "       started_at = CASE WHEN x.started THEN COALESCE(j.started_at, now()) "
  "                         ELSE j.started_at END, "
  "       finished_at = CASE WHEN x.finished THEN now() ELSE NULL END "
  "FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, status text, attempts int, generation int, "
  "                                        old_generation int, last_error text, "
  "                                        started boolean, finished boolean) "
  /* The generation guard: a row another run moved on is left alone. And a row is never moved
   * back: another replica may have run the same job further meanwhile (a copy of its message,
   * or this one's deliveries handed over while it was paused), so this run's state is only
   * written over fewer attempts, or over as many on a row not finished yet, or as the same
   * end (attempts are deterministic: two runs at one attempt decide the same). */
  "WHERE j.id = x.id AND j.generation = x.old_generation "
  "  AND (x.generation > j.generation OR x.attempts > j.attempts "
  "       OR (x.attempts = j.attempts "
  "           AND (j.status NOT IN ('COMPLETED', 'FAILED') OR j.status = x.status))) "
  "RETURNING j.id::text";

GHashTable *
odd_processor_db_update (PGconn     *conn,
                         GPtrArray  *runs,
                         GError    **error)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(GHashTable) updated = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(PGresult) result = NULL;
  g_autofree char *param = NULL;
  const char *values[1];

  if (runs->len == 0)
    return g_steal_pointer (&updated);

  json_builder_begin_array (builder);
  for (guint i = 0; i < runs->len; i++)
    {
      OddJobRun *run = g_ptr_array_index (runs, i);

      json_builder_begin_object (builder);
      add_string_or_null (builder, "id", run->id);
      add_string_or_null (builder, "status", run->status);
      json_builder_set_member_name (builder, "attempts");
      json_builder_add_int_value (builder, run->attempts);
      json_builder_set_member_name (builder, "generation");
      json_builder_add_int_value (builder, run->generation);
      json_builder_set_member_name (builder, "old_generation");
      json_builder_add_int_value (builder, run->old_generation);
      add_string_or_null (builder, "last_error", run->last_error);
      json_builder_set_member_name (builder, "started");
      json_builder_add_boolean_value (builder, run->started);
      json_builder_set_member_name (builder, "finished");
      json_builder_add_boolean_value (builder, run->finished);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);

  param = builder_to_string (builder);
  values[0] = param;
  result = odd_pg_query (conn, update_sql, 1, values, error);
  if (result == NULL)
    return NULL;

  for (int r = 0; r < PQntuples (result); r++)
    g_hash_table_add (updated, g_strdup (PQgetvalue (result, r, 0)));

  return g_steal_pointer (&updated);
}

static const char dead_letters_sql[] =
  "INSERT INTO dead_letters (queue, reason, job_id, correlation_id, message_key, message, dead_at) "
  "SELECT x.queue, x.reason, x.job_id, x.correlation_id, x.message_key, x.message, now() "
  "FROM jsonb_to_recordset($1::jsonb) AS x(queue text, reason text, job_id uuid, "
  "                                        correlation_id text, message_key text, message jsonb) "
  /* A message redelivered after a crash between our commit and our ack is already here. */
  "ON CONFLICT (queue, message_key) DO NOTHING";

static char *
dead_letters_param (GPtrArray *rows,
                    gboolean   original_as_text)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  json_builder_begin_array (builder);
  for (guint i = 0; i < rows->len; i++)
    {
      OddDeadLetterRow *row = g_ptr_array_index (rows, i);
      g_autoptr(JsonNode) message = json_node_copy (row->message);

      if (original_as_text)
        {
          /* What jsonb refused inside the original event, it takes as a string. */
          JsonObject *object = json_node_get_object (message);
          JsonNode *original = json_object_get_member (object, "original_event");

          if (original != NULL && JSON_NODE_TYPE (original) != JSON_NODE_VALUE)
            {
              g_autofree char *text = odd_json_to_string (original);

              json_object_set_string_member (object, "original_event", text);
            }
        }

      json_builder_begin_object (builder);
      add_string_or_null (builder, "queue", row->queue);
      add_string_or_null (builder, "reason", row->reason);
      add_string_or_null (builder, "job_id", row->job_id);
      add_string_or_null (builder, "correlation_id", row->correlation_id);
      add_string_or_null (builder, "message_key", row->message_key);
      json_builder_set_member_name (builder, "message");
      json_builder_add_value (builder, g_steal_pointer (&message));
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);

  return builder_to_string (builder);
}

gboolean
odd_processor_db_dead_letters (PGconn     *conn,
                               GPtrArray  *rows,
                               GError    **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(PGresult) result = NULL;
  g_autofree char *param = NULL;
  g_autofree char *as_text = NULL;
  const char *values[1];

  if (rows->len == 0)
    return TRUE;

  /* Dead letters are rare: the savepoint costs nothing on the common path, and a letter
   * the database refuses must not take the transaction (and the pipeline) with it. */
  if (!odd_pg_exec (conn, "SAVEPOINT dead_letters", error))
    return FALSE;

  param = dead_letters_param (rows, FALSE);
  values[0] = param;
  result = odd_pg_query (conn, dead_letters_sql, 1, values, &local_error);
  if (result != NULL)
    return odd_pg_exec (conn, "RELEASE SAVEPOINT dead_letters", error);

  if (odd_pg_error_get_failure (local_error) != ODD_PG_FAILURE_DATA
      || !odd_pg_exec (conn, "ROLLBACK TO SAVEPOINT dead_letters", NULL))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  g_debug ("dead letters refused (%s); storing their original events as text",
           local_error->message);
  as_text = dead_letters_param (rows, TRUE);
  values[0] = as_text;
  g_clear_pointer (&result, PQclear);
  result = odd_pg_query (conn, dead_letters_sql, 1, values, error);
  return result != NULL;
}
