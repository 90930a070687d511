#define G_LOG_DOMAIN "odd-client"

#include "odd-client-private.h"

typedef struct
{
  gint64 submitted;
  gint64 completed;
  gint64 failed;
} TypeCounts;

struct _OddStats
{
  GObject      parent_instance;
  gint64       total;
  gint64       completed;
  gint64       failed;
  gint64       in_flight;
  double       throughput;
  double       p50;
  double       p95;
  double       p99;
  char        *last_event_time;
  GStrv        job_types;
  GHashTable  *by_type;  /* job type -> TypeCounts */
};

G_DEFINE_FINAL_TYPE (OddStats, odd_stats, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_TOTAL,
  PROP_COMPLETED,
  PROP_FAILED,
  PROP_IN_FLIGHT,
  PROP_THROUGHPUT,
  PROP_P50,
  PROP_P95,
  PROP_P99,
  N_PROPS
};
static GParamSpec *properties[N_PROPS];

static void
odd_stats_finalize (GObject *object)
{
  OddStats *self = ODD_STATS (object);

  g_free (self->last_event_time);
  g_strfreev (self->job_types);
  g_hash_table_unref (self->by_type);
  G_OBJECT_CLASS (odd_stats_parent_class)->finalize (object);
}

static void
odd_stats_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  OddStats *self = ODD_STATS (object);

  switch (prop_id)
    {
    case PROP_TOTAL:
      g_value_set_int64 (value, self->total);
      break;
    case PROP_COMPLETED:
      g_value_set_int64 (value, self->completed);
      break;
    case PROP_FAILED:
      g_value_set_int64 (value, self->failed);
      break;
    case PROP_IN_FLIGHT:
      g_value_set_int64 (value, self->in_flight);
      break;
    case PROP_THROUGHPUT:
      g_value_set_double (value, self->throughput);
      break;
    case PROP_P50:
      g_value_set_double (value, self->p50);
      break;
    case PROP_P95:
      g_value_set_double (value, self->p95);
      break;
    case PROP_P99:
      g_value_set_double (value, self->p99);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
odd_stats_class_init (OddStatsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

  object_class->finalize = odd_stats_finalize;
  object_class->get_property = odd_stats_get_property;

  properties[PROP_TOTAL] = g_param_spec_int64 ("total", NULL, NULL, 0, G_MAXINT64, 0, flags);
  properties[PROP_COMPLETED] = g_param_spec_int64 ("completed", NULL, NULL, 0, G_MAXINT64, 0, flags);
  properties[PROP_FAILED] = g_param_spec_int64 ("failed", NULL, NULL, 0, G_MAXINT64, 0, flags);
  /* The read model's in-flight count may dip below zero for a moment (events out of order). */
  properties[PROP_IN_FLIGHT] = g_param_spec_int64 ("in-flight", NULL, NULL, G_MININT64, G_MAXINT64, 0, flags);
  properties[PROP_THROUGHPUT] = g_param_spec_double ("throughput", NULL, NULL, 0, G_MAXDOUBLE, 0, flags);
  properties[PROP_P50] = g_param_spec_double ("p50", NULL, NULL, -G_MAXDOUBLE, G_MAXDOUBLE, 0, flags);
  properties[PROP_P95] = g_param_spec_double ("p95", NULL, NULL, -G_MAXDOUBLE, G_MAXDOUBLE, 0, flags);
  properties[PROP_P99] = g_param_spec_double ("p99", NULL, NULL, -G_MAXDOUBLE, G_MAXDOUBLE, 0, flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
odd_stats_init (OddStats *self)
{
  self->by_type = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return g_strcmp0 (*(const char * const *) a, *(const char * const *) b);
}

OddStats *
odd_stats_new_from_json (JsonObject *object)
{
  OddStats *self;
  JsonObject *latency;
  JsonObject *by_type;
  g_autoptr(GPtrArray) types = g_ptr_array_new_with_free_func (g_free);

  g_return_val_if_fail (object != NULL, NULL);

  self = g_object_new (ODD_TYPE_STATS, NULL);
  self->total = odd_client_json_int (object, "totalJobs", 0);
  self->completed = odd_client_json_int (object, "completedJobs", 0);
  self->failed = odd_client_json_int (object, "failedJobs", 0);
  self->in_flight = odd_client_json_int (object, "inFlightJobs", 0);
  self->throughput = odd_client_json_double (object, "throughputPerSec");
  latency = odd_json_get_object (object, "latencyMs");
  self->p50 = odd_client_json_double (latency, "p50");
  self->p95 = odd_client_json_double (latency, "p95");
  self->p99 = odd_client_json_double (latency, "p99");
  self->last_event_time = g_strdup (odd_json_get_string (object, "lastEventTime"));
  if (self->last_event_time == NULL)
    self->last_event_time = g_strdup ("");

  by_type = odd_json_get_object (object, "byType");
  if (by_type != NULL)
    {
      JsonObjectIter iter;
      const char *name;
      JsonNode *node;

      json_object_iter_init (&iter, by_type);
      while (json_object_iter_next (&iter, &name, &node))
        {
          JsonObject *counts = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
          TypeCounts *entry = g_new0 (TypeCounts, 1);

          entry->submitted = odd_client_json_int (counts, "submitted", 0);
          entry->completed = odd_client_json_int (counts, "completed", 0);
          entry->failed = odd_client_json_int (counts, "failed", 0);
          g_hash_table_replace (self->by_type, g_strdup (name), entry);
        }
    }

  {
    GHashTableIter iter;
    gpointer key;

    g_hash_table_iter_init (&iter, self->by_type);
    while (g_hash_table_iter_next (&iter, &key, NULL))
      g_ptr_array_add (types, g_strdup (key));
    g_ptr_array_sort (types, compare_names);
    g_ptr_array_add (types, NULL);
    self->job_types = (GStrv) g_ptr_array_free (g_steal_pointer (&types), FALSE);
  }
  return self;
}

const char * const *
odd_stats_get_job_types (OddStats *self)
{
  g_return_val_if_fail (ODD_IS_STATS (self), NULL);
  return (const char * const *) self->job_types;
}

gboolean
odd_stats_get_type_counts (OddStats   *self,
                           const char *job_type,
                           gint64     *submitted,
                           gint64     *completed,
                           gint64     *failed)
{
  TypeCounts *counts;

  g_return_val_if_fail (ODD_IS_STATS (self), FALSE);
  g_return_val_if_fail (job_type != NULL, FALSE);

  counts = g_hash_table_lookup (self->by_type, job_type);
  if (submitted != NULL)
    *submitted = counts != NULL ? counts->submitted : 0;
  if (completed != NULL)
    *completed = counts != NULL ? counts->completed : 0;
  if (failed != NULL)
    *failed = counts != NULL ? counts->failed : 0;
  return counts != NULL;
}

#define GETTER(type, name, fallback) \
  type \
  odd_stats_get_##name (OddStats *self) \
  { \
    g_return_val_if_fail (ODD_IS_STATS (self), fallback); \
    return self->name; \
  }

GETTER (gint64, total, 0)
GETTER (gint64, completed, 0)
GETTER (gint64, failed, 0)
GETTER (gint64, in_flight, 0)
GETTER (double, throughput, 0)
GETTER (double, p50, 0)
GETTER (double, p95, 0)
GETTER (double, p99, 0)
GETTER (const char *, last_event_time, NULL)
