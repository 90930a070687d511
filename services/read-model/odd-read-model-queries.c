#define G_LOG_DOMAIN "odd-read-model-queries"

#include <gio/gio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "odd-service.h"
#include "odd-alerts.h"
#include "odd-latency.h"
#include "odd-latency-histogram.h"
#include "odd-read-model-cursor.h"
#include "odd-read-model-queries.h"

const char *const odd_job_statuses[] = {
  "PENDING", "VALIDATED", "EXECUTING", "COMPLETED", "FAILED", NULL
};

const char *const odd_read_model_queues[] = {
  ODD_QUEUE_JOBS_CREATED, ODD_QUEUE_LIFECYCLE, ODD_QUEUE_FAILED_VALIDATION, ODD_QUEUE_DEAD, NULL
};

/* How old the metrics-engine's newest queue sample may be before RabbitMQ is asked. */
#define QUEUE_SAMPLE_MAX_AGE_SEC 10

/* Type summaries are capped so one stray producer inventing types cannot make /stats huge. */
#define MAX_TYPES 100

gboolean
odd_job_status_is_valid (const char *status)
{
  return status != NULL && g_strv_contains (odd_job_statuses, status);
}

gboolean
odd_dead_letter_queue_is_valid (const char *queue)
{
  return g_strcmp0 (queue, ODD_QUEUE_FAILED_VALIDATION) == 0 ||
         g_strcmp0 (queue, ODD_QUEUE_DEAD) == 0;
}

char *
odd_like_escape (const char *text)
{
  GString *out = g_string_sized_new (strlen (text) + 8);

  for (const char *p = text; *p != '\0'; p++)
    {
      if (*p == '\\' || *p == '%' || *p == '_')
        g_string_append_c (out, '\\');
      g_string_append_c (out, *p);
    }

  return g_string_free (out, FALSE);
}

/* ---- PostgreSQL rows to JSON ---- */

/* Timestamps leave PostgreSQL as integer microseconds: exact for cursors, and formatted by
 * odd_time_format_rfc3339() the same way as every other time in the contracts. */
#define USEC(col) "(extract(epoch from " col ") * 1000000)::bigint"

static gboolean
column_int64 (PGresult *res,
              int       row,
              int       col,
              gint64   *out)
{
  if (PQgetisnull (res, row, col))
    return FALSE;
  *out = g_ascii_strtoll (PQgetvalue (res, row, col), NULL, 10);
  return TRUE;
}

static void
add_time (JsonBuilder *builder,
          const char  *name,
          PGresult    *res,
          int          row,
          int          col)
{
  gint64 usec;

  json_builder_set_member_name (builder, name);
  if (column_int64 (res, row, col, &usec))
    {
      g_autofree char *text = odd_time_format_rfc3339 (usec);
      json_builder_add_string_value (builder, text);
    }
  else
    json_builder_add_null_value (builder);
}

static void
add_int (JsonBuilder *builder,
         const char  *name,
         PGresult    *res,
         int          row,
         int          col)
{
  gint64 value;

  json_builder_set_member_name (builder, name);
  if (column_int64 (res, row, col, &value))
    json_builder_add_int_value (builder, value);
  else
    json_builder_add_null_value (builder);
}

static void
add_text (JsonBuilder *builder,
          const char  *name,
          PGresult    *res,
          int          row,
          int          col)
{
  json_builder_set_member_name (builder, name);
  if (PQgetisnull (res, row, col))
    json_builder_add_null_value (builder);
  else
    json_builder_add_string_value (builder, PQgetvalue (res, row, col));
}

static JsonNode *
parse_json_column (PGresult *res,
                   int       row,
                   int       col)
{
  g_autoptr(GError) error = NULL;
  JsonNode *node;

  if (PQgetisnull (res, row, col))
    return json_node_new (JSON_NODE_NULL);

  /* jsonb::text is always valid JSON; the fallback only guards against a broken column type. */
  node = odd_json_parse (PQgetvalue (res, row, col), -1, &error);
  if (node == NULL)
    {
      node = json_node_new (JSON_NODE_VALUE);
      json_node_set_string (node, PQgetvalue (res, row, col));
    }
  return node;
}

/* A jsonb column as PostgreSQL writes it, kept as text to the answer: parsed, its numbers
 * would come back as json-glib writes doubles (0.1 as 0.10000000000000001). */
static JsonNode *
raw_json_column (PGresult *res,
                 int       row,
                 int       col)
{
  if (PQgetisnull (res, row, col))
    return json_node_new (JSON_NODE_NULL);
  return odd_json_raw_new (PQgetvalue (res, row, col), -1);
}

static void
add_json (JsonBuilder *builder,
          const char  *name,
          PGresult    *res,
          int          row,
          int          col)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_value (builder, parse_json_column (res, row, col));
}

/* Columns of a job summary, in this order. */
#define JOB_SUMMARY_COLUMNS \
  "id::text, type, status, " USEC ("created_at") ", " USEC ("updated_at") ", attempts"

static void
add_job_summary (JsonBuilder *builder,
                 PGresult    *res,
                 int          row)
{
  json_builder_begin_object (builder);
  add_text (builder, "id", res, row, 0);
  add_text (builder, "type", res, row, 1);
  add_text (builder, "status", res, row, 2);
  add_time (builder, "createdAt", res, row, 3);
  add_time (builder, "updatedAt", res, row, 4);
  add_int (builder, "attempts", res, row, 5);
  json_builder_end_object (builder);
}

JsonNode *
odd_read_model_query_recent_jobs (PGconn  *pg,
                                  guint    limit,
                                  GError **error)
{
  g_autoptr(PGresult) res = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autofree char *limit_text = g_strdup_printf ("%u", limit);
  const char *params[] = { limit_text };

  res = odd_pg_query (pg,
                      "SELECT " JOB_SUMMARY_COLUMNS " FROM jobs "
                      "ORDER BY created_at DESC, id DESC LIMIT $1::int",
                      1, params, error);
  if (res == NULL)
    return NULL;

  json_builder_begin_array (builder);
  for (int i = 0; i < PQntuples (res); i++)
    add_job_summary (builder, res, i);
  json_builder_end_array (builder);

  return json_builder_get_root (builder);
}

JsonNode *
odd_read_model_query_job (PGconn      *pg,
                          const char  *job_id,
                          GError     **error)
{
  g_autoptr(PGresult) job = NULL;
  g_autoptr(PGresult) events = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  const char *params[] = { job_id };

  job = odd_pg_query (pg,
                      "SELECT id::text, type, status, payload::text, attempts, generation, "
                      "last_error, " USEC ("created_at") ", " USEC ("updated_at") ", "
                      USEC ("started_at") ", " USEC ("finished_at") " "
                      "FROM jobs WHERE id = $1::uuid",
                      1, params, error);
  if (job == NULL)
    return NULL;
  if (PQntuples (job) == 0)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "Job not found");
      return NULL;
    }

  events = odd_pg_query (pg,
                         "SELECT envelope::text FROM job_events WHERE job_id = $1::uuid "
                         "ORDER BY occurred_at, seq",
                         1, params, error);
  if (events == NULL)
    return NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "job");
  json_builder_begin_object (builder);
  add_text (builder, "id", job, 0, 0);
  add_text (builder, "type", job, 0, 1);
  add_text (builder, "status", job, 0, 2);
  json_builder_set_member_name (builder, "payload");
  json_builder_add_value (builder, raw_json_column (job, 0, 3));
  add_int (builder, "attempts", job, 0, 4);
  add_int (builder, "generation", job, 0, 5);
  add_text (builder, "lastError", job, 0, 6);
  add_time (builder, "createdAt", job, 0, 7);
  add_time (builder, "updatedAt", job, 0, 8);
  add_time (builder, "startedAt", job, 0, 9);
  add_time (builder, "finishedAt", job, 0, 10);
  json_builder_end_object (builder);

  json_builder_set_member_name (builder, "events");
  json_builder_begin_array (builder);
  for (int i = 0; i < PQntuples (events); i++)
    json_builder_add_value (builder, raw_json_column (events, i, 0));
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

JsonNode *
odd_read_model_query_jobs (PGconn              *pg,
                           const OddJobsQuery  *query,
                           GError             **error)
{
  g_autoptr(PGresult) res = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autofree char *pattern = NULL;
  g_autofree char *cursor_usec = NULL;
  g_autofree char *limit_text = NULL;
  g_autofree char *next_cursor = NULL;
  const char *params[6];
  int n_rows;
  int n_items;

  if (query->q != NULL)
    {
      g_autofree char *escaped = odd_like_escape (query->q);
      pattern = g_strdup_printf ("%%%s%%", escaped);
    }
  if (query->has_cursor)
    cursor_usec = g_strdup_printf ("%" G_GINT64_FORMAT, query->cursor_usec);
  /* One row more than asked tells whether a next page exists. */
  limit_text = g_strdup_printf ("%u", query->limit + 1);

  params[0] = query->status;
  params[1] = query->type;
  params[2] = pattern;
  params[3] = cursor_usec;
  params[4] = query->has_cursor ? query->cursor_id : NULL;
  params[5] = limit_text;

  /* The search folds case with lower() and LIKE, not ILIKE: a third of the time over 100,000
   * rows (an id's text is lower case already). One fixed statement per order: absent
   * filters are NULL parameters, never SQL text. The
   * row comparison is the keyset: strictly after the cursor in the page's order, which the
   * (created_at desc, id desc) index serves both ways. */
#define JOBS_PAGE_SQL(cmp, dir) \
  "SELECT " JOB_SUMMARY_COLUMNS " FROM jobs " \
  "WHERE ($1::text IS NULL OR status = $1::text) " \
  "AND ($2::text IS NULL OR type = $2::text) " \
  "AND ($3::text IS NULL OR id::text LIKE lower($3::text) OR lower(type) LIKE lower($3::text) " \
  "OR lower(last_error) LIKE lower($3::text)) " \
  "AND ($4::bigint IS NULL OR (created_at, id) " cmp " " \
  "('epoch'::timestamptz + $4::bigint * interval '1 microsecond', $5::uuid)) " \
  "ORDER BY created_at " dir ", id " dir " LIMIT $6::int"
  res = odd_pg_query (pg,
                      query->ascending ? JOBS_PAGE_SQL (">", "ASC") : JOBS_PAGE_SQL ("<", "DESC"),
                      6, params, error);
#undef JOBS_PAGE_SQL
  if (res == NULL)
    return NULL;

  n_rows = PQntuples (res);
  n_items = MIN (n_rows, (int) query->limit);

  if (n_rows > (int) query->limit && n_items > 0)
    {
      gint64 usec = 0;

      column_int64 (res, n_items - 1, 3, &usec);
      next_cursor = odd_jobs_cursor_encode (usec, PQgetvalue (res, n_items - 1, 0));
    }

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "items");
  json_builder_begin_array (builder);
  for (int i = 0; i < n_items; i++)
    add_job_summary (builder, res, i);
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "nextCursor");
  if (next_cursor != NULL)
    json_builder_add_string_value (builder, next_cursor);
  else
    json_builder_add_null_value (builder);
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

JsonNode *
odd_read_model_query_events (PGconn      *pg,
                             const char  *job_id,
                             guint        limit,
                             GError     **error)
{
  g_autoptr(PGresult) res = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autofree char *limit_text = g_strdup_printf ("%u", limit);
  const char *params[] = { job_id, limit_text };

  res = odd_pg_query (pg,
                      "SELECT envelope::text FROM job_events "
                      "WHERE ($1::uuid IS NULL OR job_id = $1::uuid) "
                      "ORDER BY occurred_at DESC, seq DESC LIMIT $2::int",
                      2, params, error);
  if (res == NULL)
    return NULL;

  json_builder_begin_array (builder);
  for (int i = 0; i < PQntuples (res); i++)
    json_builder_add_value (builder, parse_json_column (res, i, 0));
  json_builder_end_array (builder);

  return json_builder_get_root (builder);
}

/* The generation a dead letter's job died as, as the gateway's replay reads it. */
#define DEAD_GENERATION(m) \
  "GREATEST(COALESCE(" \
  "CASE WHEN jsonb_typeof(" m "->'generation') = 'number' THEN (" m "->>'generation')::numeric END, " \
  "CASE WHEN jsonb_typeof(" m "#>'{original_event,payload,generation}') = 'number' " \
  "THEN (" m "#>>'{original_event,payload,generation}')::numeric END, " \
  "CASE WHEN jsonb_typeof(" m "#>'{original_event,payload,metadata,retryGeneration}') = 'number' " \
  "THEN (" m "#>>'{original_event,payload,metadata,retryGeneration}')::numeric END, 0), 0)"

/* $1 queue (NULL: both), $2 pending only: a jobs.dead letter is settled once its job runs a
 * later generation; one of jobs.failed.validation once its job is stored at all. */
#define DLQ_WHERE \
  "WHERE ($1::text IS NULL OR dl.queue = $1::text) " \
  "AND (NOT $2::boolean OR NOT EXISTS (SELECT 1 FROM jobs j WHERE j.id = dl.job_id " \
  "AND (dl.queue <> 'jobs.dead' OR j.generation > " DEAD_GENERATION ("dl.message") "))) "

JsonNode *
odd_read_model_query_dlq (PGconn      *pg,
                          const char  *queue,
                          gboolean     pending,
                          guint        limit,
                          GError     **error)
{
  g_autoptr(PGresult) res = NULL;
  g_autoptr(PGresult) total = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autofree char *limit_text = g_strdup_printf ("%u", limit);
  const char *params[] = { queue, pending ? "true" : "false", limit_text };
  gint64 count = 0;

  res = odd_pg_query (pg,
                      "SELECT dl.id, dl.queue, dl.reason, dl.job_id::text, dl.correlation_id, "
                      USEC ("dl.dead_at") ", " USEC ("dl.replayed_at") ", dl.message::text, "
                      "dl.message_key FROM dead_letters dl " DLQ_WHERE
                      "ORDER BY dl.dead_at DESC, dl.id DESC LIMIT $3::int",
                      3, params, error);
  if (res == NULL)
    return NULL;

  total = odd_pg_query (pg, "SELECT count(*) FROM dead_letters dl " DLQ_WHERE, 2, params, error);
  if (total == NULL)
    return NULL;
  column_int64 (total, 0, 0, &count);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "items");
  json_builder_begin_array (builder);
  for (int i = 0; i < PQntuples (res); i++)
    {
      json_builder_begin_object (builder);
      add_int (builder, "id", res, i, 0);
      add_text (builder, "queue", res, i, 1);
      add_text (builder, "reason", res, i, 2);
      add_text (builder, "jobId", res, i, 3);
      add_text (builder, "correlationId", res, i, 4);
      add_time (builder, "deadAt", res, i, 5);
      add_time (builder, "replayedAt", res, i, 6);
      add_json (builder, "message", res, i, 7);
      add_text (builder, "messageKey", res, i, 8);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "total");
  json_builder_add_int_value (builder, count);
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

gboolean
odd_read_model_query_recent_dead_letters (PGconn  *pg,
                                          guint    window_sec,
                                          gint64  *count,
                                          gint64  *oldest_usec,
                                          GError **error)
{
  g_autoptr(PGresult) res = NULL;
  g_autofree char *window_text = g_strdup_printf ("%u", window_sec);
  const char *params[] = { window_text };

  res = odd_pg_query (pg,
                      "SELECT count(*), " USEC ("min(dead_at)") " FROM dead_letters "
                      "WHERE dead_at > now() - $1::int * interval '1 second'",
                      1, params, error);
  if (res == NULL)
    return FALSE;

  *count = 0;
  *oldest_usec = 0;
  column_int64 (res, 0, 0, count);
  column_int64 (res, 0, 1, oldest_usec);
  return TRUE;
}

/* ---- Redis ---- */

static gboolean
redis_failed (redisContext  *redis,
              const char    *what,
              GError       **error)
{
  g_set_error (error, ODD_REDIS_ERROR, ODD_REDIS_ERROR_IO, "%s: %s", what,
               redis->errstr[0] != '\0' ? redis->errstr : "connection lost");
  return FALSE;
}

/* Sends every command of @commands (each a NULL-terminated argv) in one round trip and
 * returns the replies in order. Error replies fail the whole pipeline. */
static GPtrArray *
redis_pipeline (redisContext  *redis,
                GPtrArray     *commands,
                GError       **error)
{
  g_autoptr(GPtrArray) replies = g_ptr_array_new_full (commands->len, (GDestroyNotify) freeReplyObject);

  for (guint i = 0; i < commands->len; i++)
    {
      const char **argv = g_ptr_array_index (commands, i);

      if (redisAppendCommandArgv (redis, g_strv_length ((char **) argv), argv, NULL) != REDIS_OK)
        {
          redis_failed (redis, "Redis I/O error", error);
          return NULL;
        }
    }

  for (guint i = 0; i < commands->len; i++)
    {
      void *reply = NULL;

      if (redisGetReply (redis, &reply) != REDIS_OK || reply == NULL)
        {
          redis_failed (redis, "Redis I/O error", error);
          return NULL;
        }
      g_ptr_array_add (replies, reply);
    }

  for (guint i = 0; i < replies->len; i++)
    {
      redisReply *reply = g_ptr_array_index (replies, i);

      if (reply->type == REDIS_REPLY_ERROR)
        {
          g_set_error (error, ODD_REDIS_ERROR, ODD_REDIS_ERROR_REPLY, "Redis error: %s", reply->str);
          return NULL;
        }
    }

  return g_steal_pointer (&replies);
}

static gint64
reply_int (redisReply *reply)
{
  gint64 value = 0;

  if (reply == NULL)
    return 0;
  if (reply->type == REDIS_REPLY_INTEGER)
    return reply->integer;
  if (reply->type == REDIS_REPLY_STRING &&
      g_ascii_string_to_signed (reply->str, 10, G_MININT64, G_MAXINT64, &value, NULL))
    return value;
  return 0;
}

/* A counter as shown. The projection keeps them non-negative; should one ever dip below zero
 * (a retry taking back a failure it has not counted yet), 0 is shown, not a negative count. */
static gint64
reply_count (redisReply *reply)
{
  return MAX (reply_int (reply), 0);
}

/* -1 for nil, so "no sample" differs from zero. */
static gint64
reply_int_or_missing (redisReply *reply)
{
  if (reply == NULL || reply->type == REDIS_REPLY_NIL)
    return -1;
  return MAX (reply_int (reply), 0);
}

static redisReply *
array_element (redisReply *reply,
               size_t      i)
{
  if (reply == NULL || reply->type != REDIS_REPLY_ARRAY || i >= reply->elements)
    return NULL;
  return reply->element[i];
}

static GPtrArray *
command_list_new (void)
{
  return g_ptr_array_new_with_free_func (g_free);
}

/* argv arrays whose strings live in @strings */
static void
command_add (GPtrArray  *commands,
             GPtrArray  *strings,
             const char *first,
             ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  va_list ap;

  va_start (ap, first);
  for (const char *arg = first; arg != NULL; arg = va_arg (ap, const char *))
    {
      char *copy = g_strdup (arg);
      g_ptr_array_add (strings, copy);
      g_ptr_array_add (argv, copy);
    }
  va_end (ap);
  g_ptr_array_add (argv, NULL);

  g_ptr_array_add (commands, g_ptr_array_steal (argv, NULL));
}

static GArray *
query_latency (redisContext  *redis,
               GError       **error)
{
  g_autoptr(redisReply) reply = NULL;
  g_autoptr(GPtrArray) fields = g_ptr_array_new ();
  g_autoptr(GPtrArray) values = g_ptr_array_new ();

  reply = odd_redis_command (redis, error, "HGETALL %s", ODD_LATENCY_HISTOGRAM_KEY);
  if (reply == NULL)
    return NULL;

  for (size_t i = 0; i + 1 < reply->elements; i += 2)
    {
      g_ptr_array_add (fields, reply->element[i]->str);
      g_ptr_array_add (values, reply->element[i + 1]->str);
    }

  return odd_latency_buckets_parse ((const char *const *) fields->pdata,
                                    (const char *const *) values->pdata, fields->len);
}

GArray *
odd_read_model_query_seconds (redisContext  *redis,
                              gint64         first_second,
                              guint          n,
                              GError       **error)
{
  g_autoptr(GPtrArray) commands = command_list_new ();
  g_autoptr(GPtrArray) strings = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) replies = NULL;
  GArray *buckets;

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *key = g_strdup_printf ("metrics:sec:%" G_GINT64_FORMAT, first_second + i);
      command_add (commands, strings, "HMGET", key, "submitted", "completed", "failed",
                   ODD_SEC_FIELD_QUEUE_DEPTH, NULL);
    }

  replies = redis_pipeline (redis, commands, error);
  if (replies == NULL)
    return NULL;

  buckets = g_array_sized_new (FALSE, TRUE, sizeof (OddSecondBucket), n);
  for (guint i = 0; i < n; i++)
    {
      redisReply *reply = g_ptr_array_index (replies, i);
      OddSecondBucket bucket = {
        .submitted = reply_int_or_missing (array_element (reply, 0)),
        .completed = reply_int_or_missing (array_element (reply, 1)),
        .failed = reply_int_or_missing (array_element (reply, 2)),
        .queue_depth = reply_int_or_missing (array_element (reply, 3)),
      };
      g_array_append_val (buckets, bucket);
    }

  return buckets;
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* Type names of metrics:type:<type>, at most MAX_TYPES, sorted. */
static GPtrArray *
scan_types (redisContext  *redis,
            GError       **error)
{
  g_autoptr(GPtrArray) types = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autofree char *cursor = g_strdup ("0");
  const char *prefix = "metrics:type:";
  gsize prefix_len = strlen (prefix);

  do
    {
      g_autoptr(redisReply) reply = NULL;
      redisReply *keys;

      reply = odd_redis_command (redis, error, "SCAN %s MATCH metrics:type:* COUNT 1000", cursor);
      if (reply == NULL)
        return NULL;
      if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
          reply->element[0]->type != REDIS_REPLY_STRING)
        {
          g_set_error_literal (error, ODD_REDIS_ERROR, ODD_REDIS_ERROR_REPLY,
                               "Redis error: unexpected SCAN reply");
          return NULL;
        }

      g_free (cursor);
      cursor = g_strdup (reply->element[0]->str);
      keys = reply->element[1];

      for (size_t i = 0; i < keys->elements && types->len < MAX_TYPES; i++)
        {
          const char *key = keys->element[i]->str;

          /* SCAN may return a key twice; keep the first. */
          if (key == NULL || !g_str_has_prefix (key, prefix) || key[prefix_len] == '\0' ||
              g_hash_table_contains (seen, key + prefix_len))
            continue;
          g_ptr_array_add (types, g_strdup (key + prefix_len));
          g_hash_table_add (seen, g_ptr_array_index (types, types->len - 1));
        }
    }
  while (!g_str_equal (cursor, "0") && types->len < MAX_TYPES);

  g_ptr_array_sort (types, compare_strings);
  return g_steal_pointer (&types);
}

static gboolean
add_types (JsonBuilder   *builder,
           redisContext  *redis,
           GError       **error)
{
  g_autoptr(GPtrArray) types = NULL;
  g_autoptr(GPtrArray) commands = command_list_new ();
  g_autoptr(GPtrArray) strings = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) replies = NULL;

  types = scan_types (redis, error);
  if (types == NULL)
    return FALSE;

  for (guint i = 0; i < types->len; i++)
    {
      g_autofree char *key = g_strconcat ("metrics:type:", (char *) g_ptr_array_index (types, i), NULL);
      command_add (commands, strings, "HMGET", key, "submitted", "completed", "failed", NULL);
    }

  replies = redis_pipeline (redis, commands, error);
  if (replies == NULL)
    return FALSE;

  json_builder_begin_object (builder);
  for (guint i = 0; i < types->len; i++)
    {
      redisReply *reply = g_ptr_array_index (replies, i);

      json_builder_set_member_name (builder, g_ptr_array_index (types, i));
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "submitted");
      json_builder_add_int_value (builder, reply_count (array_element (reply, 0)));
      json_builder_set_member_name (builder, "completed");
      json_builder_add_int_value (builder, reply_count (array_element (reply, 1)));
      json_builder_set_member_name (builder, "failed");
      json_builder_add_int_value (builder, reply_count (array_element (reply, 2)));
      json_builder_end_object (builder);
    }
  json_builder_end_object (builder);

  return TRUE;
}

JsonNode *
odd_read_model_query_stats (redisContext  *redis,
                            gint64         now_sec,
                            GError       **error)
{
  g_autoptr(redisReply) counters = NULL;
  g_autoptr(GArray) latency = NULL;
  g_autoptr(GArray) seconds = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  redisReply *last_event;
  gint64 completed_last_minute = 0;

  counters = odd_redis_command (redis, error,
                                "MGET metrics:jobs:total metrics:jobs:completed metrics:jobs:failed "
                                "metrics:jobs:inflight metrics:last_event_time");
  if (counters == NULL)
    return NULL;

  latency = query_latency (redis, error);
  if (latency == NULL)
    return NULL;

  /* The 60 whole seconds before the current one, which is still filling. */
  seconds = odd_read_model_query_seconds (redis, now_sec - 60, 60, error);
  if (seconds == NULL)
    return NULL;
  for (guint i = 0; i < seconds->len; i++)
    completed_last_minute += MAX (g_array_index (seconds, OddSecondBucket, i).completed, 0);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "totalJobs");
  json_builder_add_int_value (builder, reply_count (array_element (counters, 0)));
  json_builder_set_member_name (builder, "completedJobs");
  json_builder_add_int_value (builder, reply_count (array_element (counters, 1)));
  json_builder_set_member_name (builder, "failedJobs");
  json_builder_add_int_value (builder, reply_count (array_element (counters, 2)));
  json_builder_set_member_name (builder, "inFlightJobs");
  json_builder_add_int_value (builder, reply_count (array_element (counters, 3)));
  json_builder_set_member_name (builder, "lastEventTime");
  last_event = array_element (counters, 4);
  json_builder_add_string_value (builder,
                                 last_event != NULL && last_event->type == REDIS_REPLY_STRING
                                 ? last_event->str : "");
  json_builder_set_member_name (builder, "throughputPerSec");
  /* A rate to the thousandth: 19 jobs in a minute are 0.317/s, not 0.31666666666666665. */
  json_builder_add_double_value (builder, round (completed_last_minute / 60.0 * 1000.0) / 1000.0);
  json_builder_set_member_name (builder, "latencyMs");
  json_builder_add_value (builder, odd_latency_summary (latency));
  json_builder_set_member_name (builder, "byType");
  if (!add_types (builder, redis, error))
    return NULL;
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

typedef struct {
  char  *name;
  guint  messages;
  guint  consumers;
} QueueStats;

static void
queue_stats_clear (gpointer data)
{
  g_free (((QueueStats *) data)->name);
}

static int
compare_queue_stats (gconstpointer a,
                     gconstpointer b)
{
  return g_strcmp0 (((const QueueStats *) a)->name, ((const QueueStats *) b)->name);
}

static GArray *
queue_stats_array_new (void)
{
  GArray *queues = g_array_new (FALSE, TRUE, sizeof (QueueStats));

  g_array_set_clear_func (queues, queue_stats_clear);
  return queues;
}

/* Adds the sample "<messages> <consumers>" (metrics:queues, queue:<name> of metrics:sec:<t>) of
 * queue @name to @queues; a value this reader does not understand is skipped, not made zero. */
static void
queue_stats_add_sample (GArray     *queues,
                        const char *name,
                        const char *value)
{
  g_auto(GStrv) parts = NULL;
  guint64 messages;
  guint64 consumers;
  QueueStats q;

  if (name == NULL || name[0] == '\0' || value == NULL)
    return;
  parts = g_strsplit (value, " ", -1);
  if (g_strv_length (parts) != 2 ||
      !g_ascii_string_to_unsigned (parts[0], 10, 0, G_MAXUINT, &messages, NULL) ||
      !g_ascii_string_to_unsigned (parts[1], 10, 0, G_MAXUINT, &consumers, NULL))
    return;

  q.name = g_strdup (name);
  q.messages = messages;
  q.consumers = consumers;
  g_array_append_val (queues, q);
}

/* One second of the series: its counters, the latency histogram of the jobs that completed
 * in it (ODD_LATENCY_HISTOGRAM_SECOND_PREFIX fields of metrics:sec:<t>) and the queue sample
 * taken in it (ODD_SEC_FIELD_QUEUE_PREFIX fields). */
typedef struct {
  OddSecondBucket  counts;
  GArray          *latency;   /* OddLatencyBucket */
  GArray          *queues;    /* QueueStats; NULL when the second has no sample */
} SeriesSecond;

static void
series_second_clear (gpointer data)
{
  g_clear_pointer (&((SeriesSecond *) data)->latency, g_array_unref);
  g_clear_pointer (&((SeriesSecond *) data)->queues, g_array_unref);
}

static gint64
hash_field_count (const char *value)
{
  gint64 n = 0;

  if (value == NULL || !g_ascii_string_to_signed (value, 10, G_MININT64, G_MAXINT64, &n, NULL))
    return 0;
  return MAX (n, 0);
}

/* HGETALL of each second's hash (pipelined): the counters and the latency fields at once. */
static GArray *
query_series_seconds (redisContext  *redis,
                      gint64         first_second,
                      guint          n,
                      GError       **error)
{
  g_autoptr(GPtrArray) commands = command_list_new ();
  g_autoptr(GPtrArray) strings = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) replies = NULL;
  g_autoptr(GPtrArray) fields = g_ptr_array_new ();
  g_autoptr(GPtrArray) values = g_ptr_array_new ();
  gsize prefix_len = strlen (ODD_LATENCY_HISTOGRAM_SECOND_PREFIX);
  gsize queue_prefix_len = strlen (ODD_SEC_FIELD_QUEUE_PREFIX);
  GArray *seconds;

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *key = g_strdup_printf ("metrics:sec:%" G_GINT64_FORMAT, first_second + i);
      command_add (commands, strings, "HGETALL", key, NULL);
    }
  replies = redis_pipeline (redis, commands, error);
  if (replies == NULL)
    return NULL;

  seconds = g_array_sized_new (FALSE, TRUE, sizeof (SeriesSecond), n);
  g_array_set_clear_func (seconds, series_second_clear);
  for (guint i = 0; i < n; i++)
    {
      redisReply *reply = g_ptr_array_index (replies, i);
      SeriesSecond second = { { 0, 0, 0, 0 }, NULL, NULL };

      g_ptr_array_set_size (fields, 0);
      g_ptr_array_set_size (values, 0);
      for (size_t f = 0; reply->type == REDIS_REPLY_ARRAY && f + 1 < reply->elements; f += 2)
        {
          const char *field = reply->element[f]->str;
          const char *value = reply->element[f + 1]->str;

          if (field == NULL)
            continue;
          if (g_str_has_prefix (field, ODD_LATENCY_HISTOGRAM_SECOND_PREFIX))
            {
              g_ptr_array_add (fields, (gpointer) (field + prefix_len));
              g_ptr_array_add (values, (gpointer) value);
            }
          else if (g_str_equal (field, "submitted"))
            second.counts.submitted = hash_field_count (value);
          else if (g_str_equal (field, "completed"))
            second.counts.completed = hash_field_count (value);
          else if (g_str_equal (field, "failed"))
            second.counts.failed = hash_field_count (value);
          else if (g_str_equal (field, ODD_SEC_FIELD_QUEUE_DEPTH))
            second.counts.queue_depth = hash_field_count (value);
          else if (g_str_has_prefix (field, ODD_SEC_FIELD_QUEUE_PREFIX))
            {
              if (second.queues == NULL)
                second.queues = queue_stats_array_new ();
              queue_stats_add_sample (second.queues, field + queue_prefix_len, value);
            }
        }
      if (fields->len > 0)
        second.latency = odd_latency_buckets_parse ((const char *const *) fields->pdata,
                                                    (const char *const *) values->pdata, fields->len);
      if (second.queues != NULL && second.queues->len == 0)
        g_clear_pointer (&second.queues, g_array_unref);
      g_array_append_val (seconds, second);
    }

  return seconds;
}

/* {"<name>": {"messages": n, "consumers": m}, ...}, by name: /queues' members, keyed. */
static void
add_queue_depths (JsonBuilder *builder,
                  GArray      *queues)
{
  g_array_sort (queues, compare_queue_stats);
  json_builder_begin_object (builder);
  for (guint i = 0; i < queues->len; i++)
    {
      const QueueStats *q = &g_array_index (queues, QueueStats, i);

      json_builder_set_member_name (builder, q->name);
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "messages");
      json_builder_add_int_value (builder, q->messages);
      json_builder_set_member_name (builder, "consumers");
      json_builder_add_int_value (builder, q->consumers);
      json_builder_end_object (builder);
    }
  json_builder_end_object (builder);
}

static void
add_second (JsonBuilder *builder,
            gint64       second)
{
  g_autofree char *text = odd_time_format_rfc3339 (second * G_USEC_PER_SEC);

  json_builder_add_string_value (builder, text);
}

JsonNode *
odd_read_model_query_series (redisContext  *redis,
                             gint64         now_sec,
                             guint          window,
                             GError       **error)
{
  g_autoptr(GArray) seconds = NULL;
  g_autoptr(GArray) latency = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  gint64 from = now_sec - window + 1;

  seconds = query_series_seconds (redis, from, window, error);
  if (seconds == NULL)
    return NULL;
  latency = query_latency (redis, error);
  if (latency == NULL)
    return NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "from");
  add_second (builder, from);
  json_builder_set_member_name (builder, "to");
  add_second (builder, now_sec);
  json_builder_set_member_name (builder, "step");
  json_builder_add_int_value (builder, 1);
  json_builder_set_member_name (builder, "points");
  json_builder_begin_array (builder);
  for (guint i = 0; i < seconds->len; i++)
    {
      const SeriesSecond *second = &g_array_index (seconds, SeriesSecond, i);
      const OddSecondBucket *b = &second->counts;

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "t");
      add_second (builder, from + i);
      json_builder_set_member_name (builder, "submitted");
      json_builder_add_int_value (builder, b->submitted);
      json_builder_set_member_name (builder, "completed");
      json_builder_add_int_value (builder, b->completed);
      json_builder_set_member_name (builder, "failed");
      json_builder_add_int_value (builder, b->failed);
      json_builder_set_member_name (builder, "queueDepth");
      json_builder_add_int_value (builder, b->queue_depth);
      /* Only a second in which jobs completed has percentiles. */
      if (second->latency != NULL && second->latency->len > 0)
        {
          json_builder_set_member_name (builder, "latencyMs");
          json_builder_add_value (builder, odd_latency_summary (second->latency));
        }
      /* Only a second in which the metrics-engine sampled the queues has their depths. */
      if (second->queues != NULL)
        {
          json_builder_set_member_name (builder, "queues");
          add_queue_depths (builder, second->queues);
        }
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "latencyMs");
  json_builder_add_value (builder, odd_latency_summary (latency));
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

static JsonNode *
queues_to_json (GArray *queues)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  g_array_sort (queues, compare_queue_stats);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "queues");
  json_builder_begin_array (builder);
  for (guint i = 0; i < queues->len; i++)
    {
      const QueueStats *q = &g_array_index (queues, QueueStats, i);

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "name");
      json_builder_add_string_value (builder, q->name);
      json_builder_set_member_name (builder, "messages");
      json_builder_add_int_value (builder, q->messages);
      json_builder_set_member_name (builder, "consumers");
      json_builder_add_int_value (builder, q->consumers);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

JsonNode *
odd_read_model_query_queues_redis (redisContext  *redis,
                                   gint64         now_sec,
                                   GError       **error)
{
  g_autoptr(redisReply) reply = NULL;
  g_autoptr(GArray) queues = queue_stats_array_new ();
  g_autoptr(GArray) recent = NULL;
  gboolean fresh = FALSE;

  /* The sampler writes queue_depth into the current second's bucket along with the hash; the
   * hash itself never expires, so no recent sample means it is a leftover. */
  recent = odd_read_model_query_seconds (redis, now_sec - QUEUE_SAMPLE_MAX_AGE_SEC,
                                         QUEUE_SAMPLE_MAX_AGE_SEC + 1, error);
  if (recent == NULL)
    return NULL;
  for (guint i = 0; i < recent->len && !fresh; i++)
    fresh = g_array_index (recent, OddSecondBucket, i).queue_depth >= 0;
  if (!fresh)
    return NULL;

  reply = odd_redis_command (redis, error, "HGETALL metrics:queues");
  if (reply == NULL)
    return NULL;

  for (size_t i = 0; i + 1 < reply->elements; i += 2)
    queue_stats_add_sample (queues, reply->element[i]->str, reply->element[i + 1]->str);

  if (queues->len == 0)
    return NULL;
  return queues_to_json (queues);
}

JsonNode *
odd_read_model_query_queues_amqp (const char  *url,
                                  GError     **error)
{
  g_autoptr(GArray) queues = queue_stats_array_new ();
  amqp_connection_state_t conn = NULL;

  for (guint i = 0; odd_read_model_queues[i] != NULL; i++)
    {
      g_autoptr(GError) local_error = NULL;
      QueueStats q = { NULL, 0, 0 };

      if (conn == NULL)
        {
          conn = odd_amqp_connect (url, "odd-read-model queue stats", error);
          if (conn == NULL)
            return NULL;
        }

      /* A queue nobody declared yet makes the broker close the channel: report the others,
       * on a fresh connection. */
      if (!odd_amqp_queue_stats (conn, 1, odd_read_model_queues[i], &q.messages, &q.consumers,
                                 &local_error))
        {
          g_debug ("queue %s: %s", odd_read_model_queues[i], local_error->message);
          odd_amqp_close (conn);
          conn = NULL;
          continue;
        }

      q.name = g_strdup (odd_read_model_queues[i]);
      g_array_append_val (queues, q);
    }

  if (conn != NULL)
    odd_amqp_close (conn);

  return queues_to_json (queues);
}
