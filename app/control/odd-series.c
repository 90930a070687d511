#define G_LOG_DOMAIN "odd-client"

#include <stdlib.h>
#include <string.h>

#include "odd-client-private.h"

struct _OddSeries
{
  GObject  parent_instance;
  GArray  *points;  /* OddSeriesPoint */
  GArray  *queues;  /* OddSeriesQueue, the points' */
  GStringChunk *queue_names;
  gint64   from;
  gint64   to;
  guint    step;
  double   p50;
  double   p95;
  double   p99;
};

G_DEFINE_FINAL_TYPE (OddSeries, odd_series, G_TYPE_OBJECT)

static void
odd_series_finalize (GObject *object)
{
  OddSeries *self = ODD_SERIES (object);

  g_array_unref (self->points);
  g_array_unref (self->queues);
  g_string_chunk_free (self->queue_names);
  G_OBJECT_CLASS (odd_series_parent_class)->finalize (object);
}

static void
odd_series_class_init (OddSeriesClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = odd_series_finalize;
}

static void
odd_series_init (OddSeries *self)
{
  self->points = g_array_new (FALSE, TRUE, sizeof (OddSeriesPoint));
  self->queues = g_array_new (FALSE, TRUE, sizeof (OddSeriesQueue));
  self->queue_names = g_string_chunk_new (64);
  self->step = 1;
}

static gint64
time_member (JsonObject *object,
             const char *name)
{
  const char *text = odd_json_get_string (object, name);
  gint64 usec = 0;

  if (text == NULL || !odd_time_parse_rfc3339 (text, &usec))
    return 0;
  return usec;
}

static int
compare_queue_names (gconstpointer a,
                     gconstpointer b)
{
  return strcmp (((const OddSeriesQueue *) a)->name, ((const OddSeriesQueue *) b)->name);
}

/* Appends the point's "queues" to self->queues, sorted by name; returns how many. */
static guint
parse_queues (OddSeries  *self,
              JsonObject *point)
{
  JsonObject *queues = odd_json_get_object (point, "queues");
  g_autoptr(GList) names = NULL;
  guint first = self->queues->len;

  if (queues == NULL)
    return 0;
  names = json_object_get_members (queues);
  for (GList *l = names; l != NULL; l = l->next)
    {
      JsonObject *queue = odd_json_get_object (queues, l->data);
      OddSeriesQueue q;

      if (queue == NULL)
        continue;
      q.name = g_string_chunk_insert_const (self->queue_names, l->data);
      q.messages = odd_client_json_int (queue, "messages", 0);
      q.consumers = odd_client_json_int (queue, "consumers", 0);
      g_array_append_val (self->queues, q);
    }
  qsort (&g_array_index (self->queues, OddSeriesQueue, first), self->queues->len - first,
         sizeof (OddSeriesQueue), compare_queue_names);
  return self->queues->len - first;
}

OddSeries *
odd_series_new_from_json (JsonObject *object)
{
  OddSeries *self;
  JsonObject *latency;
  JsonNode *points;

  g_return_val_if_fail (object != NULL, NULL);

  self = g_object_new (ODD_TYPE_SERIES, NULL);
  self->from = time_member (object, "from");
  self->to = time_member (object, "to");
  self->step = (guint) CLAMP (odd_client_json_int (object, "step", 1), 1, G_MAXUINT);
  latency = odd_json_get_object (object, "latencyMs");
  self->p50 = odd_client_json_double (latency, "p50");
  self->p95 = odd_client_json_double (latency, "p95");
  self->p99 = odd_client_json_double (latency, "p99");

  points = json_object_get_member (object, "points");
  if (points != NULL && JSON_NODE_HOLDS_ARRAY (points))
    {
      JsonArray *array = json_node_get_array (points);
      guint n = json_array_get_length (array);

      g_array_set_size (self->points, n);
      for (guint i = 0; i < n; i++)
        {
          JsonNode *node = json_array_get_element (array, i);
          JsonObject *point = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
          JsonObject *point_latency;
          OddSeriesPoint *p = &g_array_index (self->points, OddSeriesPoint, i);

          p->time = time_member (point, "t");
          p->submitted = odd_client_json_int (point, "submitted", 0);
          p->completed = odd_client_json_int (point, "completed", 0);
          p->failed = odd_client_json_int (point, "failed", 0);
          p->queue_depth = odd_client_json_int (point, "queueDepth", 0);
          point_latency = odd_json_get_object (point, "latencyMs");
          if (point_latency != NULL)
            {
              p->has_latency = TRUE;
              p->p50 = odd_client_json_double (point_latency, "p50");
              p->p95 = odd_client_json_double (point_latency, "p95");
              p->p99 = odd_client_json_double (point_latency, "p99");
            }
          p->n_queues = parse_queues (self, point);
        }

      /* The queues array is complete (no more reallocation): point into it. */
      for (guint i = 0, next = 0; i < n; i++)
        {
          OddSeriesPoint *p = &g_array_index (self->points, OddSeriesPoint, i);

          p->queues = p->n_queues > 0 ? &g_array_index (self->queues, OddSeriesQueue, next) : NULL;
          next += p->n_queues;
        }
    }
  return self;
}

const OddSeriesPoint *
odd_series_get_points (OddSeries *self,
                       guint     *n_points)
{
  g_return_val_if_fail (ODD_IS_SERIES (self), NULL);

  if (n_points != NULL)
    *n_points = self->points->len;
  return (const OddSeriesPoint *) self->points->data;
}

const OddSeriesQueue *
odd_series_point_get_queue (const OddSeriesPoint *point,
                            const char           *queue)
{
  g_return_val_if_fail (point != NULL, NULL);
  g_return_val_if_fail (queue != NULL, NULL);

  for (guint i = 0; i < point->n_queues; i++)
    if (g_str_equal (point->queues[i].name, queue))
      return &point->queues[i];
  return NULL;
}

guint
odd_series_get_n_points (OddSeries *self)
{
  g_return_val_if_fail (ODD_IS_SERIES (self), 0);
  return self->points->len;
}

#define GETTER(type, name, fallback) \
  type \
  odd_series_get_##name (OddSeries *self) \
  { \
    g_return_val_if_fail (ODD_IS_SERIES (self), fallback); \
    return self->name; \
  }

GETTER (gint64, from, 0)
GETTER (gint64, to, 0)
GETTER (guint, step, 1)
GETTER (double, p50, 0)
GETTER (double, p95, 0)
GETTER (double, p99, 0)
