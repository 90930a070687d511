#define G_LOG_DOMAIN "odd-metrics"

#include "odd-metrics.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* A label may carry user input (a job type): past this many distinct values a metric folds
 * new ones into "other", so a client cannot grow the registry without bound. */
#define MAX_LABEL_VALUES 100
#define OVERFLOW_LABEL   "other"

typedef enum {
  KIND_COUNTER,
  KIND_GAUGE,
  KIND_HISTOGRAM,
} Kind;

typedef struct {
  double   value;    /* counter, gauge */
  guint64 *buckets;  /* histogram: per bucket (not cumulative), n_bounds + 1 (+Inf) */
  double   sum;
  guint64  count;
} Series;

typedef struct {
  Kind        kind;
  char       *name;
  char       *help;
  char       *label_name;
  double     *bounds;
  guint       n_bounds;
  GMutex      lock;
  Series     *unlabelled;
  GHashTable *series;   /* label value → Series */
} Family;

struct _OddCounter   { Family family; };
struct _OddGauge     { Family family; };
struct _OddHistogram { Family family; };

struct _OddMetrics {
  char       *service;
  GMutex      lock;
  GPtrArray  *families;   /* registration order = render order */
  GHashTable *by_name;
};

const double odd_metrics_latency_buckets[] = {
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
};
const guint odd_metrics_n_latency_buckets = G_N_ELEMENTS (odd_metrics_latency_buckets);

static Series *
series_new (Family *family)
{
  Series *series = g_new0 (Series, 1);

  if (family->kind == KIND_HISTOGRAM)
    series->buckets = g_new0 (guint64, family->n_bounds + 1);
  return series;
}

static void
series_free (gpointer data)
{
  Series *series = data;

  g_free (series->buckets);
  g_free (series);
}

static Family *
family_new (Kind          kind,
            const char   *name,
            const char   *help,
            const char   *label_name,
            const double *bounds,
            guint         n_bounds)
{
  Family *family;

  /* Every kind has the same layout; the public types only keep callers honest. */
  family = (Family *) g_new0 (struct _OddCounter, 1);
  family->kind = kind;
  family->name = g_strdup (name);
  family->help = g_strdup (help != NULL ? help : name);
  family->label_name = g_strdup (label_name);
  family->n_bounds = n_bounds;
  if (n_bounds > 0)
    family->bounds = g_memdup2 (bounds, sizeof (double) * n_bounds);
  g_mutex_init (&family->lock);
  family->series = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, series_free);
  if (label_name == NULL)
    family->unlabelled = series_new (family);
  return family;
}

static void
family_free (gpointer data)
{
  Family *family = data;

  g_free (family->name);
  g_free (family->help);
  g_free (family->label_name);
  g_free (family->bounds);
  g_mutex_clear (&family->lock);
  if (family->unlabelled != NULL)
    series_free (family->unlabelled);
  g_hash_table_unref (family->series);
  g_free (family);
}

/* Called with family->lock held. */
static Series *
family_lookup (Family     *family,
               const char *label_value)
{
  Series *series;

  if (family->label_name == NULL)
    return family->unlabelled;

  if (label_value == NULL)
    label_value = "";

  series = g_hash_table_lookup (family->series, label_value);
  if (series != NULL)
    return series;

  if (g_hash_table_size (family->series) >= MAX_LABEL_VALUES)
    {
      label_value = OVERFLOW_LABEL;
      series = g_hash_table_lookup (family->series, label_value);
      if (series != NULL)
        return series;
    }

  series = series_new (family);
  g_hash_table_insert (family->series, g_strdup (label_value), series);
  return series;
}

OddMetrics *
odd_metrics_new (const char *service)
{
  OddMetrics *self = g_new0 (OddMetrics, 1);

  self->service = g_strdup (service);
  g_mutex_init (&self->lock);
  self->families = g_ptr_array_new_with_free_func (family_free);
  self->by_name = g_hash_table_new (g_str_hash, g_str_equal);
  return self;
}

void
odd_metrics_free (OddMetrics *self)
{
  if (self == NULL)
    return;
  g_hash_table_unref (self->by_name);
  g_ptr_array_unref (self->families);
  g_mutex_clear (&self->lock);
  g_free (self->service);
  g_free (self);
}

static Family *
register_family (OddMetrics   *self,
                 Kind          kind,
                 const char   *name,
                 const char   *help,
                 const char   *label_name,
                 const double *bounds,
                 guint         n_bounds)
{
  Family *family;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (name != NULL && *name != '\0', NULL);

  g_mutex_lock (&self->lock);
  family = g_hash_table_lookup (self->by_name, name);
  if (family != NULL)
    {
      g_mutex_unlock (&self->lock);
      /* Asking twice for the same metric (two components sharing a registry) is fine;
       * reusing a name for something else is a programming error. */
      g_return_val_if_fail (family->kind == kind
                            && g_strcmp0 (family->label_name, label_name) == 0, NULL);
      return family;
    }
  family = family_new (kind, name, help, label_name, bounds, n_bounds);
  g_ptr_array_add (self->families, family);
  g_hash_table_insert (self->by_name, family->name, family);
  g_mutex_unlock (&self->lock);

  return family;
}

OddCounter *
odd_metrics_counter (OddMetrics *self,
                     const char *name,
                     const char *help,
                     const char *label_name)
{
  return (OddCounter *) register_family (self, KIND_COUNTER, name, help, label_name, NULL, 0);
}

OddGauge *
odd_metrics_gauge (OddMetrics *self,
                   const char *name,
                   const char *help,
                   const char *label_name)
{
  return (OddGauge *) register_family (self, KIND_GAUGE, name, help, label_name, NULL, 0);
}

OddHistogram *
odd_metrics_histogram_labelled (OddMetrics   *self,
                                const char   *name,
                                const char   *help,
                                const char   *label_name,
                                const double *upper_bounds,
                                guint         n_bounds)
{
  g_return_val_if_fail (n_bounds == 0 || upper_bounds != NULL, NULL);

  for (guint i = 1; i < n_bounds; i++)
    g_return_val_if_fail (upper_bounds[i - 1] < upper_bounds[i], NULL);

  return (OddHistogram *) register_family (self, KIND_HISTOGRAM, name, help, label_name,
                                           upper_bounds, n_bounds);
}

OddHistogram *
odd_metrics_histogram (OddMetrics   *self,
                       const char   *name,
                       const char   *help,
                       const double *upper_bounds,
                       guint         n_bounds)
{
  return odd_metrics_histogram_labelled (self, name, help, NULL, upper_bounds, n_bounds);
}

void
odd_counter_add (OddCounter *counter,
                 const char *label_value,
                 double      amount)
{
  Family *family = (Family *) counter;

  g_return_if_fail (counter != NULL);
  /* Counters only go up; a negative amount would break rate() for every scraper. */
  if (!(amount >= 0))
    return;

  g_mutex_lock (&family->lock);
  family_lookup (family, label_value)->value += amount;
  g_mutex_unlock (&family->lock);
}

double
odd_counter_get (OddCounter *counter,
                 const char *label_value)
{
  Family *family = (Family *) counter;
  Series *series;
  double value = 0;

  g_return_val_if_fail (counter != NULL, 0);

  g_mutex_lock (&family->lock);
  if (family->label_name == NULL)
    series = family->unlabelled;
  else
    series = g_hash_table_lookup (family->series, label_value != NULL ? label_value : "");
  if (series != NULL)
    value = series->value;
  g_mutex_unlock (&family->lock);

  return value;
}

void
odd_gauge_set (OddGauge   *gauge,
               const char *label_value,
               double      value)
{
  Family *family = (Family *) gauge;

  g_return_if_fail (gauge != NULL);

  g_mutex_lock (&family->lock);
  family_lookup (family, label_value)->value = value;
  g_mutex_unlock (&family->lock);
}

void
odd_gauge_add (OddGauge   *gauge,
               const char *label_value,
               double      amount)
{
  Family *family = (Family *) gauge;

  g_return_if_fail (gauge != NULL);

  g_mutex_lock (&family->lock);
  family_lookup (family, label_value)->value += amount;
  g_mutex_unlock (&family->lock);
}

void
odd_histogram_observe_labelled (OddHistogram *histogram,
                                const char   *label_value,
                                double        value)
{
  Family *family = (Family *) histogram;
  Series *series;
  guint i;

  g_return_if_fail (histogram != NULL);
  if (isnan (value))
    return;

  /* First bucket whose upper bound holds the value; n_bounds is +Inf. */
  for (i = 0; i < family->n_bounds; i++)
    if (value <= family->bounds[i])
      break;

  g_mutex_lock (&family->lock);
  series = family_lookup (family, label_value);
  series->buckets[i]++;
  series->sum += value;
  series->count++;
  g_mutex_unlock (&family->lock);
}

void
odd_histogram_observe (OddHistogram *histogram,
                       double        value)
{
  odd_histogram_observe_labelled (histogram, NULL, value);
}

/* Rendering */

static void
append_number (GString *out,
               double   value)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (isnan (value))
    g_string_append (out, "NaN");
  else if (isinf (value))
    g_string_append (out, value > 0 ? "+Inf" : "-Inf");
  else if (value == floor (value) && fabs (value) < 1e15)
    g_string_append_printf (out, "%" G_GINT64_FORMAT, (gint64) value);
  else
    {
      /* The shortest text that reads back as the same double; locale independent. */
      g_ascii_formatd (buf, sizeof buf, "%.15g", value);
      if (g_ascii_strtod (buf, NULL) != value)
        g_ascii_formatd (buf, sizeof buf, "%.17g", value);
      g_string_append (out, buf);
    }
}

static void
append_escaped (GString    *out,
                const char *str,
                gboolean    quote)
{
  for (const char *p = str; *p != '\0'; p++)
    {
      if (*p == '\\')
        g_string_append (out, "\\\\");
      else if (*p == '\n')
        g_string_append (out, "\\n");
      else if (*p == '"' && quote)
        g_string_append (out, "\\\"");
      else
        g_string_append_c (out, *p);
    }
}

static void
append_labels (GString    *out,
               const char *service,
               const char *label_name,
               const char *label_value,
               const char *le)
{
  g_string_append (out, "{service=\"");
  append_escaped (out, service, TRUE);
  g_string_append_c (out, '"');
  if (label_name != NULL)
    {
      g_string_append_printf (out, ",%s=\"", label_name);
      append_escaped (out, label_value, TRUE);
      g_string_append_c (out, '"');
    }
  if (le != NULL)
    g_string_append_printf (out, ",le=\"%s\"", le);
  g_string_append_c (out, '}');
}

static void
append_header (GString    *out,
               const char *name,
               const char *help,
               const char *type)
{
  g_string_append_printf (out, "# HELP %s ", name);
  append_escaped (out, help, FALSE);
  g_string_append_printf (out, "\n# TYPE %s %s\n", name, type);
}

static void
render_series (GString    *out,
               const char *service,
               Family     *family,
               const char *label_value,
               Series     *series)
{
  if (family->kind != KIND_HISTOGRAM)
    {
      g_string_append (out, family->name);
      append_labels (out, service, family->label_name, label_value, NULL);
      g_string_append_c (out, ' ');
      append_number (out, series->value);
      g_string_append_c (out, '\n');
      return;
    }

  {
    guint64 cumulative = 0;

    for (guint i = 0; i <= family->n_bounds; i++)
      {
        GString *le = g_string_new (NULL);

        cumulative += series->buckets[i];
        if (i < family->n_bounds)
          append_number (le, family->bounds[i]);
        else
          g_string_append (le, "+Inf");
        g_string_append_printf (out, "%s_bucket", family->name);
        append_labels (out, service, family->label_name, label_value, le->str);
        g_string_append_printf (out, " %" G_GUINT64_FORMAT "\n", cumulative);
        g_string_free (le, TRUE);
      }
    g_string_append_printf (out, "%s_sum", family->name);
    append_labels (out, service, family->label_name, label_value, NULL);
    g_string_append_c (out, ' ');
    append_number (out, series->sum);
    g_string_append_printf (out, "\n%s_count", family->name);
    append_labels (out, service, family->label_name, label_value, NULL);
    g_string_append_printf (out, " %" G_GUINT64_FORMAT "\n", series->count);
  }
}

static int
compare_keys (const void *a,
              const void *b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static void
render_family (GString    *out,
               const char *service,
               Family     *family)
{
  static const char *const type_names[] = { "counter", "gauge", "histogram" };

  append_header (out, family->name, family->help, type_names[family->kind]);

  g_mutex_lock (&family->lock);
  if (family->label_name == NULL)
    render_series (out, service, family, NULL, family->unlabelled);
  else
    {
      g_autofree gpointer *keys = g_hash_table_get_keys_as_array (family->series, NULL);
      guint n = g_hash_table_size (family->series);

      /* Sorted so that consecutive scrapes list series in the same order. */
      qsort (keys, n, sizeof (gpointer), compare_keys);
      for (guint i = 0; i < n; i++)
        render_series (out, service, family, keys[i], g_hash_table_lookup (family->series, keys[i]));
    }
  g_mutex_unlock (&family->lock);
}

/* process_* from /proc/self, as the Prometheus client libraries export them. */
static void
render_process (GString    *out,
                const char *service)
{
  g_autofree char *stat = NULL;
  g_autofree char *statm = NULL;
  g_autofree char *proc_stat = NULL;
  long ticks = sysconf (_SC_CLK_TCK);
  long page = sysconf (_SC_PAGESIZE);
  struct rlimit limit;

  if (g_file_get_contents ("/proc/self/stat", &stat, NULL, NULL))
    {
      /* comm (field 2) may hold spaces and parentheses: parse after the last ')'. */
      const char *rest = strrchr (stat, ')');
      unsigned long utime = 0, stime = 0;
      unsigned long long starttime = 0;

      if (rest != NULL
          && sscanf (rest + 2,
                     "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %*d %*d %*d %*d %*d %*d %llu",
                     &utime, &stime, &starttime) == 3
          && ticks > 0)
        {
          append_header (out, "process_cpu_seconds_total",
                         "Total user and system CPU time spent in seconds.", "counter");
          g_string_append (out, "process_cpu_seconds_total");
          append_labels (out, service, NULL, NULL, NULL);
          g_string_append_c (out, ' ');
          append_number (out, (double) (utime + stime) / ticks);
          g_string_append_c (out, '\n');

          if (g_file_get_contents ("/proc/stat", &proc_stat, NULL, NULL))
            {
              const char *btime = strstr (proc_stat, "\nbtime ");
              unsigned long long boot = 0;

              if (btime != NULL && sscanf (btime + 7, "%llu", &boot) == 1)
                {
                  append_header (out, "process_start_time_seconds",
                                 "Start time of the process since unix epoch in seconds.", "gauge");
                  g_string_append (out, "process_start_time_seconds");
                  append_labels (out, service, NULL, NULL, NULL);
                  g_string_append_c (out, ' ');
                  append_number (out, (double) boot + (double) starttime / ticks);
                  g_string_append_c (out, '\n');
                }
            }
        }
    }

  if (g_file_get_contents ("/proc/self/statm", &statm, NULL, NULL))
    {
      unsigned long long size = 0, resident = 0;

      if (sscanf (statm, "%llu %llu", &size, &resident) == 2 && page > 0)
        {
          append_header (out, "process_virtual_memory_bytes", "Virtual memory size in bytes.", "gauge");
          g_string_append (out, "process_virtual_memory_bytes");
          append_labels (out, service, NULL, NULL, NULL);
          g_string_append_c (out, ' ');
          append_number (out, (double) size * page);
          g_string_append_c (out, '\n');
          append_header (out, "process_resident_memory_bytes", "Resident memory size in bytes.", "gauge");
          g_string_append (out, "process_resident_memory_bytes");
          append_labels (out, service, NULL, NULL, NULL);
          g_string_append_c (out, ' ');
          append_number (out, (double) resident * page);
          g_string_append_c (out, '\n');
        }
    }

  {
    DIR *dir = opendir ("/proc/self/fd");

    if (dir != NULL)
      {
        struct dirent *entry;
        guint n = 0;

        while ((entry = readdir (dir)) != NULL)
          if (entry->d_name[0] != '.')
            n++;
        closedir (dir);
        /* The directory stream itself held one descriptor while counting. */
        if (n > 0)
          n--;
        append_header (out, "process_open_fds", "Number of open file descriptors.", "gauge");
        g_string_append (out, "process_open_fds");
        append_labels (out, service, NULL, NULL, NULL);
        g_string_append_printf (out, " %u\n", n);
      }
  }

  if (getrlimit (RLIMIT_NOFILE, &limit) == 0)
    {
      append_header (out, "process_max_fds", "Maximum number of open file descriptors.", "gauge");
      g_string_append (out, "process_max_fds");
      append_labels (out, service, NULL, NULL, NULL);
      g_string_append_c (out, ' ');
      append_number (out, limit.rlim_cur == RLIM_INFINITY ? INFINITY : (double) limit.rlim_cur);
      g_string_append_c (out, '\n');
    }
}

char *
odd_metrics_render (OddMetrics *self)
{
  GString *out = g_string_sized_new (4096);

  g_return_val_if_fail (self != NULL, NULL);

  /* Families are never removed, so the array can be walked under the registry lock while
   * each family takes its own lock. */
  g_mutex_lock (&self->lock);
  for (guint i = 0; i < self->families->len; i++)
    render_family (out, self->service, g_ptr_array_index (self->families, i));
  g_mutex_unlock (&self->lock);

  render_process (out, self->service);

  return g_string_free (out, FALSE);
}
