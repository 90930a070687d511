#include <math.h>
#include <string.h>
#include "odd-metrics.h"

/* A sample line: name, its label set as text (without braces) and the value. */
typedef struct {
  char   *name;
  char   *labels;
  double  value;
} Sample;

static void
sample_free (gpointer data)
{
  Sample *s = data;

  g_free (s->name);
  g_free (s->labels);
  g_free (s);
}

/* Parses exposition text strictly enough to catch format mistakes: every sample must
 * follow a # TYPE line of its family and carry service="svc". */
static GPtrArray *
parse_exposition (const char *text)
{
  g_autoptr(GRegex) sample_re = g_regex_new ("^([a-zA-Z_:][a-zA-Z0-9_:]*)\\{((?:[a-zA-Z_][a-zA-Z0-9_]*=\"(?:[^\"\\\\]|\\\\.)*\",?)*)\\} (\\S+)$", 0, 0, NULL);
  g_autoptr(GRegex) type_re = g_regex_new ("^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram)$", 0, 0, NULL);
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
  GPtrArray *samples = g_ptr_array_new_with_free_func (sample_free);
  g_autofree char *family = NULL;

  g_assert_true (g_str_has_suffix (text, "\n"));
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autoptr(GMatchInfo) match = NULL;
      const char *line = lines[i];

      if (*line == '\0')
        {
          g_assert_null (lines[i + 1]);
          break;
        }
      if (g_str_has_prefix (line, "# HELP "))
        continue;
      if (g_regex_match (type_re, line, 0, &match))
        {
          g_free (family);
          family = g_match_info_fetch (match, 1);
          continue;
        }
      g_clear_pointer (&match, g_match_info_free);
      if (!g_regex_match (sample_re, line, 0, &match))
        g_error ("not a sample line: %s", line);
      {
        Sample *s = g_new0 (Sample, 1);
        g_autofree char *value = g_match_info_fetch (match, 3);
        char *end = NULL;

        s->name = g_match_info_fetch (match, 1);
        s->labels = g_match_info_fetch (match, 2);
        if (g_strcmp0 (value, "+Inf") == 0)
          s->value = INFINITY;
        else
          {
            s->value = g_ascii_strtod (value, &end);
            g_assert_true (*end == '\0');
          }
        g_assert_nonnull (family);
        g_assert_true (g_str_has_prefix (s->name, family));
        g_assert_true (g_str_has_prefix (s->labels, "service=\"svc\""));
        g_ptr_array_add (samples, s);
      }
    }
  return samples;
}

static double
find (GPtrArray  *samples,
      const char *name,
      const char *labels)
{
  for (guint i = 0; i < samples->len; i++)
    {
      Sample *s = g_ptr_array_index (samples, i);

      if (g_strcmp0 (s->name, name) == 0 && g_strcmp0 (s->labels, labels) == 0)
        return s->value;
    }
  g_error ("no sample %s{%s}", name, labels);
  return NAN;
}

static gboolean
has (GPtrArray  *samples,
     const char *name,
     const char *labels)
{
  for (guint i = 0; i < samples->len; i++)
    {
      Sample *s = g_ptr_array_index (samples, i);

      if (g_strcmp0 (s->name, name) == 0 && g_strcmp0 (s->labels, labels) == 0)
        return TRUE;
    }
  return FALSE;
}

static void
test_counters_gauges (void)
{
  g_autoptr(OddMetrics) metrics = odd_metrics_new ("svc");
  OddCounter *plain = odd_metrics_counter (metrics, "jobs_total", "Jobs.\nSecond line", NULL);
  OddCounter *typed = odd_metrics_counter (metrics, "jobs_by_type_total", "By type", "type");
  OddGauge *depth = odd_metrics_gauge (metrics, "queue_depth", "Depth", NULL);
  g_autofree char *text = NULL;
  g_autoptr(GPtrArray) samples = NULL;

  g_assert_true (odd_metrics_counter (metrics, "jobs_total", "again", NULL) == plain);

  odd_counter_inc (plain, NULL);
  odd_counter_add (plain, NULL, 2.5);
  odd_counter_add (plain, NULL, -10);  /* ignored: counters never go down */
  odd_counter_inc (typed, "email");
  odd_counter_inc (typed, "email");
  odd_counter_inc (typed, "we\"ird\\type\nx");
  odd_gauge_set (depth, NULL, 7);
  odd_gauge_add (depth, NULL, -3);

  g_assert_cmpfloat (odd_counter_get (plain, NULL), ==, 3.5);
  g_assert_cmpfloat (odd_counter_get (typed, "email"), ==, 2);
  g_assert_cmpfloat (odd_counter_get (typed, "none"), ==, 0);

  text = odd_metrics_render (metrics);
  g_assert_nonnull (strstr (text, "# HELP jobs_total Jobs.\\nSecond line\n# TYPE jobs_total counter\n"));
  g_assert_nonnull (strstr (text, "# TYPE queue_depth gauge\n"));
  samples = parse_exposition (text);
  g_assert_cmpfloat (find (samples, "jobs_total", "service=\"svc\""), ==, 3.5);
  g_assert_cmpfloat (find (samples, "jobs_by_type_total", "service=\"svc\",type=\"email\""), ==, 2);
  g_assert_cmpfloat (find (samples, "jobs_by_type_total", "service=\"svc\",type=\"we\\\"ird\\\\type\\nx\""), ==, 1);
  g_assert_cmpfloat (find (samples, "queue_depth", "service=\"svc\""), ==, 4);
  g_assert_cmpfloat (find (samples, "process_resident_memory_bytes", "service=\"svc\""), >, 0);
  g_assert_cmpfloat (find (samples, "process_open_fds", "service=\"svc\""), >=, 3);
  g_assert_cmpfloat (find (samples, "process_cpu_seconds_total", "service=\"svc\""), >=, 0);
  g_assert_cmpfloat (find (samples, "process_start_time_seconds", "service=\"svc\""), >,
                     g_get_real_time () / 1e6 - 3600);
  g_assert_cmpfloat (find (samples, "process_start_time_seconds", "service=\"svc\""), <=,
                     g_get_real_time () / 1e6 + 1);
}

static void
test_histogram (void)
{
  g_autoptr(OddMetrics) metrics = odd_metrics_new ("svc");
  const double bounds[] = { 0.1, 0.5, 1 };
  OddHistogram *h = odd_metrics_histogram (metrics, "latency_seconds", "Latency", bounds, 3);
  OddHistogram *byroute = odd_metrics_histogram_labelled (metrics, "route_seconds", "Per route",
                                                          "route", odd_metrics_latency_buckets,
                                                          odd_metrics_n_latency_buckets);
  g_autofree char *text = NULL;
  g_autoptr(GPtrArray) samples = NULL;

  odd_histogram_observe (h, 0.05);
  odd_histogram_observe (h, 0.1);   /* le is inclusive */
  odd_histogram_observe (h, 0.3);
  odd_histogram_observe (h, 5);
  odd_histogram_observe_labelled (byroute, "/jobs", 0.002);

  text = odd_metrics_render (metrics);
  samples = parse_exposition (text);
  g_assert_cmpfloat (find (samples, "latency_seconds_bucket", "service=\"svc\",le=\"0.1\""), ==, 2);
  g_assert_cmpfloat (find (samples, "latency_seconds_bucket", "service=\"svc\",le=\"0.5\""), ==, 3);
  g_assert_cmpfloat (find (samples, "latency_seconds_bucket", "service=\"svc\",le=\"1\""), ==, 3);
  g_assert_cmpfloat (find (samples, "latency_seconds_bucket", "service=\"svc\",le=\"+Inf\""), ==, 4);
  g_assert_cmpfloat (find (samples, "latency_seconds_count", "service=\"svc\""), ==, 4);
  g_assert_cmpfloat (fabs (find (samples, "latency_seconds_sum", "service=\"svc\"") - 5.45), <, 1e-9);
  g_assert_cmpfloat (find (samples, "route_seconds_bucket", "service=\"svc\",route=\"/jobs\",le=\"0.0025\""), ==, 1);
  g_assert_cmpfloat (find (samples, "route_seconds_bucket", "service=\"svc\",route=\"/jobs\",le=\"0.001\""), ==, 0);
  g_assert_cmpfloat (find (samples, "route_seconds_bucket", "service=\"svc\",route=\"/jobs\",le=\"0.0005\""), ==, 0);
  g_assert_cmpfloat (find (samples, "route_seconds_count", "service=\"svc\",route=\"/jobs\""), ==, 1);
  g_assert_nonnull (strstr (text, "# TYPE latency_seconds histogram\n"));
}

static void
test_cardinality (void)
{
  g_autoptr(OddMetrics) metrics = odd_metrics_new ("svc");
  OddCounter *c = odd_metrics_counter (metrics, "by_type_total", "By type", "type");
  g_autofree char *text = NULL;
  g_autoptr(GPtrArray) samples = NULL;
  guint n = 0;

  for (int i = 0; i < 250; i++)
    {
      g_autofree char *label = g_strdup_printf ("type-%03d", i);

      odd_counter_inc (c, label);
    }
  odd_counter_inc (c, "type-000");  /* an existing value still counts as itself */

  text = odd_metrics_render (metrics);
  samples = parse_exposition (text);
  for (guint i = 0; i < samples->len; i++)
    if (g_strcmp0 (((Sample *) g_ptr_array_index (samples, i))->name, "by_type_total") == 0)
      n++;
  g_assert_cmpuint (n, ==, 101);
  g_assert_cmpfloat (find (samples, "by_type_total", "service=\"svc\",type=\"type-000\""), ==, 2);
  g_assert_cmpfloat (find (samples, "by_type_total", "service=\"svc\",type=\"other\""), ==, 150);
  g_assert_false (has (samples, "by_type_total", "service=\"svc\",type=\"type-200\""));
}

static gpointer
hammer (gpointer data)
{
  OddCounter *c = data;

  for (int i = 0; i < 10000; i++)
    odd_counter_inc (c, (i % 2) ? "a" : "b");
  return NULL;
}

static void
test_threads (void)
{
  g_autoptr(OddMetrics) metrics = odd_metrics_new ("svc");
  OddCounter *c = odd_metrics_counter (metrics, "hits_total", "Hits", "k");
  GThread *threads[4];

  for (int i = 0; i < 4; i++)
    threads[i] = g_thread_new ("hammer", hammer, c);
  for (int i = 0; i < 4; i++)
    {
      g_autofree char *text = odd_metrics_render (metrics);  /* rendering while updating */

      g_thread_join (threads[i]);
    }
  g_assert_cmpfloat (odd_counter_get (c, "a"), ==, 20000);
  g_assert_cmpfloat (odd_counter_get (c, "b"), ==, 20000);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/metrics/counters-gauges", test_counters_gauges);
  g_test_add_func ("/metrics/histogram", test_histogram);
  g_test_add_func ("/metrics/cardinality", test_cardinality);
  g_test_add_func ("/metrics/threads", test_threads);
  return g_test_run ();
}
