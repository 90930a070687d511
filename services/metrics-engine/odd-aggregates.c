#define G_LOG_DOMAIN "odd-aggregates"

#include "odd-aggregates.h"

#include <math.h>

#include "odd-ids.h"
#include "odd-latency-histogram.h"

G_DEFINE_QUARK (odd-aggregates-error-quark, odd_aggregates_error)

const guint odd_aggregates_latency_bounds_ms[ODD_AGGREGATES_N_LATENCY_BOUNDS] = {
  1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 30000, 60000,
};
const guint odd_aggregates_n_latency_bounds = G_N_ELEMENTS (odd_aggregates_latency_bounds_ms);

struct _OddAggregates
{
  gint64              now_usec;
  guint               n_events;
  GHashTable         *counters;   /* key → gint64* */
  GHashTable         *hashes;     /* key → GHashTable (field → gint64*) */
  GHashTable         *expires;    /* key → gint64* (unix second) */
  gint64              last_event_usec;
  gboolean            has_last_event;
  GArray             *ops;        /* cache, rebuilt when dirty */
  OddAggregatesStats  stats;
};

const char *
odd_event_kind_to_string (OddEventKind kind)
{
  switch (kind)
    {
    case ODD_EVENT_KIND_CREATED:   return "job.created";
    case ODD_EVENT_KIND_VALIDATED: return "job.validated";
    case ODD_EVENT_KIND_EXECUTED:  return "job.executed";
    case ODD_EVENT_KIND_COMPLETED: return "job.completed";
    case ODD_EVENT_KIND_FAILED:    return "job.failed";
    default:                       return "unknown";
    }
}

static gboolean
event_kind_from_string (const char   *str,
                        OddEventKind *kind)
{
  for (OddEventKind k = ODD_EVENT_KIND_CREATED; k <= ODD_EVENT_KIND_FAILED; k++)
    if (g_strcmp0 (str, odd_event_kind_to_string (k)) == 0)
      {
        *kind = k;
        return TRUE;
      }
  return FALSE;
}

OddAggregates *
odd_aggregates_new (gint64 now_usec)
{
  OddAggregates *self = g_new0 (OddAggregates, 1);

  self->now_usec = now_usec;
  self->counters = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->hashes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                        (GDestroyNotify) g_hash_table_unref);
  self->expires = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->stats.latency_seconds = g_array_new (FALSE, FALSE, sizeof (double));
  return self;
}

void
odd_aggregates_free (OddAggregates *self)
{
  if (self == NULL)
    return;
  g_hash_table_unref (self->counters);
  g_hash_table_unref (self->hashes);
  g_hash_table_unref (self->expires);
  g_clear_pointer (&self->ops, g_array_unref);
  g_array_unref (self->stats.latency_seconds);
  g_free (self);
}

static void
incr (OddAggregates *self,
      const char    *key,
      gint64         delta)
{
  gint64 *value = g_hash_table_lookup (self->counters, key);

  if (value == NULL)
    {
      value = g_new0 (gint64, 1);
      g_hash_table_insert (self->counters, g_strdup (key), value);
    }
  *value += delta;
}

static void
hincr (OddAggregates *self,
       const char    *key,
       const char    *field,
       gint64         delta)
{
  GHashTable *fields = g_hash_table_lookup (self->hashes, key);
  gint64 *value;

  if (fields == NULL)
    {
      fields = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
      g_hash_table_insert (self->hashes, g_strdup (key), fields);
    }
  value = g_hash_table_lookup (fields, field);
  if (value == NULL)
    {
      value = g_new0 (gint64, 1);
      g_hash_table_insert (fields, g_strdup (field), value);
    }
  *value += delta;
}

/* The per-second bucket of @occurred_usec, or NULL when it would already have expired. */
static char *
sec_key (OddAggregates *self,
         gint64         occurred_usec,
         gint64        *expire_at)
{
  gint64 second = occurred_usec >= 0 ? occurred_usec / G_USEC_PER_SEC
                                     : -((-occurred_usec + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC);

  *expire_at = second + ODD_AGGREGATES_SEC_TTL;
  if (*expire_at * G_USEC_PER_SEC <= self->now_usec)
    return NULL;
  /* A producer's clock far ahead must not plant buckets that outlive the window by years. */
  if (second > self->now_usec / G_USEC_PER_SEC + ODD_AGGREGATES_SEC_TTL)
    return NULL;
  return g_strdup_printf (ODD_KEY_SEC_PREFIX "%" G_GINT64_FORMAT, second);
}

static void
sec_hincr (OddAggregates *self,
           gint64         occurred_usec,
           const char    *field,
           gint64         delta)
{
  gint64 expire_at = 0;
  g_autofree char *key = sec_key (self, occurred_usec, &expire_at);
  gint64 *at;

  if (key == NULL)
    return;
  hincr (self, key, field, delta);
  at = g_hash_table_lookup (self->expires, key);
  if (at == NULL)
    {
      at = g_new0 (gint64, 1);
      g_hash_table_insert (self->expires, g_strdup (key), at);
    }
  *at = expire_at;
}

static gboolean
invalid (GError    **error,
         const char *format,
         ...) G_GNUC_PRINTF (2, 3);

static gboolean
invalid (GError    **error,
         const char *format,
         ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error_literal (error, ODD_AGGREGATES_ERROR, ODD_AGGREGATES_ERROR_INVALID, message);
  return FALSE;
}

static const char *
get_string (JsonObject *object,
            const char *member)
{
  JsonNode *node = json_object_get_member (object, member);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

/* An integer member, or @fallback when absent; FALSE when present but not an integer. */
static gboolean
get_int (JsonObject *object,
         const char *member,
         gint64      fallback,
         gint64     *out)
{
  JsonNode *node = json_object_get_member (object, member);
  double d;

  *out = fallback;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node))
    return FALSE;
  if (json_node_get_value_type (node) == G_TYPE_INT64)
    {
      *out = json_node_get_int (node);
      return TRUE;
    }
  if (json_node_get_value_type (node) != G_TYPE_DOUBLE)
    return FALSE;
  d = json_node_get_double (node);
  if (d != floor (d) || fabs (d) > 1e15)
    return FALSE;
  *out = (gint64) d;
  return TRUE;
}

gboolean
odd_aggregates_add (OddAggregates  *self,
                    JsonObject     *envelope,
                    GError        **error)
{
  const char *event_type;
  const char *occurred_at;
  const char *job_type;
  JsonNode *payload_node;
  JsonObject *payload;
  OddEventKind kind;
  gint64 occurred_usec;
  gint64 generation = 0;
  g_autofree char *type_key = NULL;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (envelope != NULL, FALSE);

  /* Check everything first: an event is folded completely or not at all. */
  event_type = get_string (envelope, "eventType");
  if (event_type == NULL || !event_kind_from_string (event_type, &kind))
    return invalid (error, "/eventType: unknown event type '%s'", event_type ? event_type : "(none)");
  occurred_at = get_string (envelope, "occurredAt");
  if (occurred_at == NULL || !odd_time_parse_rfc3339 (occurred_at, &occurred_usec))
    return invalid (error, "/occurredAt: not an RFC 3339 date-time");
  payload_node = json_object_get_member (envelope, "payload");
  if (payload_node == NULL || !JSON_NODE_HOLDS_OBJECT (payload_node))
    return invalid (error, "/payload: not an object");
  payload = json_node_get_object (payload_node);
  job_type = get_string (payload, "type");
  if (job_type == NULL)
    return invalid (error, "/payload/type: not a string");
  if (!get_int (payload, "generation", 0, &generation) || generation < 0)
    return invalid (error, "/payload/generation: not a non-negative integer");

  g_clear_pointer (&self->ops, g_array_unref);
  self->n_events++;
  self->stats.events_by_type[kind]++;
  if (!self->has_last_event || occurred_usec > self->last_event_usec)
    {
      self->last_event_usec = occurred_usec;
      self->has_last_event = TRUE;
    }

  type_key = g_strconcat (ODD_KEY_TYPE_PREFIX, job_type, NULL);

  switch (kind)
    {
    case ODD_EVENT_KIND_CREATED:
      /* Submissions are counted when the processor stored the job (job.validated). */
      break;

    case ODD_EVENT_KIND_VALIDATED:
      if (generation == 0)
        {
          incr (self, ODD_KEY_JOBS_TOTAL, 1);
          incr (self, ODD_KEY_JOBS_INFLIGHT, 1);
          hincr (self, type_key, "submitted", 1);
          sec_hincr (self, occurred_usec, "submitted", 1);
          self->stats.submitted++;
        }
      else
        {
          /* A retry generation takes a FAILED job back into flight. */
          incr (self, ODD_KEY_JOBS_FAILED, -1);
          incr (self, ODD_KEY_JOBS_INFLIGHT, 1);
          hincr (self, type_key, "failed", -1);
          self->stats.retried++;
        }
      break;

    case ODD_EVENT_KIND_EXECUTED:
      hincr (self, type_key, "attempts", 1);
      break;

    case ODD_EVENT_KIND_COMPLETED:
      {
        const char *created_at = get_string (payload, "createdAt");
        gint64 created_usec;

        incr (self, ODD_KEY_JOBS_COMPLETED, 1);
        incr (self, ODD_KEY_JOBS_INFLIGHT, -1);
        hincr (self, type_key, "completed", 1);
        sec_hincr (self, occurred_usec, "completed", 1);
        self->stats.completed++;
        if (created_at != NULL && odd_time_parse_rfc3339 (created_at, &created_usec))
          {
            /* Clocks of different hosts may disagree a little: never a negative latency. */
            gint64 latency_usec = MAX (0, occurred_usec - created_usec);
            double latency_s = (double) latency_usec / G_USEC_PER_SEC;
            gint64 bucket = odd_latency_histogram_bucket (latency_usec);
            g_autofree char *field = g_strdup_printf ("%" G_GINT64_FORMAT, bucket);
            g_autofree char *sec_field = g_strdup_printf (ODD_LATENCY_HISTOGRAM_SECOND_PREFIX "%" G_GINT64_FORMAT, bucket);

            hincr (self, ODD_KEY_LATENCY, field, 1);
            /* The same histogram per second of completion, so that the read model can tell
             * the percentiles of any window of the last hour. */
            sec_hincr (self, occurred_usec, sec_field, 1);
            g_array_append_val (self->stats.latency_seconds, latency_s);
          }
      }
      break;

    case ODD_EVENT_KIND_FAILED:
      incr (self, ODD_KEY_JOBS_FAILED, 1);
      incr (self, ODD_KEY_JOBS_INFLIGHT, -1);
      hincr (self, type_key, "failed", 1);
      sec_hincr (self, occurred_usec, "failed", 1);
      self->stats.failed++;
      break;

    default:
      g_assert_not_reached ();
    }

  return TRUE;
}

guint
odd_aggregates_get_n_events (OddAggregates *self)
{
  return self->n_events;
}

static gint64 *
lookup (OddAggregates *self,
        const char    *key,
        const char    *field)
{
  GHashTable *fields;

  if (field == NULL)
    return g_hash_table_lookup (self->counters, key);
  fields = g_hash_table_lookup (self->hashes, key);
  return fields ? g_hash_table_lookup (fields, field) : NULL;
}

gint64
odd_aggregates_get (OddAggregates *self,
                    const char    *key,
                    const char    *field)
{
  gint64 *value = lookup (self, key, field);

  return value ? *value : 0;
}

gboolean
odd_aggregates_has (OddAggregates *self,
                    const char    *key,
                    const char    *field)
{
  return lookup (self, key, field) != NULL;
}

gint64
odd_aggregates_get_expire_at (OddAggregates *self,
                              const char    *key)
{
  gint64 *at = g_hash_table_lookup (self->expires, key);

  return at ? *at : 0;
}

char *
odd_aggregates_dup_last_event_time (OddAggregates *self)
{
  if (!self->has_last_event)
    return NULL;
  return odd_time_format_rfc3339 (self->last_event_usec);
}

GArray *
odd_aggregates_get_ops (OddAggregates *self)
{
  GHashTableIter iter, field_iter;
  gpointer key, value, field, field_value;

  if (self->ops != NULL)
    return self->ops;

  self->ops = g_array_new (FALSE, FALSE, sizeof (OddAggOp));

  g_hash_table_iter_init (&iter, self->counters);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      OddAggOp op = { ODD_AGG_OP_INCRBY, key, NULL, *(gint64 *) value };
      g_array_append_val (self->ops, op);
    }

  g_hash_table_iter_init (&iter, self->hashes);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      g_hash_table_iter_init (&field_iter, value);
      while (g_hash_table_iter_next (&field_iter, &field, &field_value))
        {
          OddAggOp op = { ODD_AGG_OP_HINCRBY, key, field, *(gint64 *) field_value };
          g_array_append_val (self->ops, op);
        }
    }

  /* After the increments, so EXPIREAT finds the key it applies to. */
  g_hash_table_iter_init (&iter, self->expires);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      OddAggOp op = { ODD_AGG_OP_EXPIREAT, key, NULL, *(gint64 *) value };
      g_array_append_val (self->ops, op);
    }

  return self->ops;
}

const OddAggregatesStats *
odd_aggregates_get_stats (OddAggregates *self)
{
  return &self->stats;
}
