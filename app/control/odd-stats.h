/* odd-stats.h: the counters of GET /stats (stats.json) */
#pragma once

#include <glib-object.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define ODD_TYPE_STATS (odd_stats_get_type ())
G_DECLARE_FINAL_TYPE (OddStats, odd_stats, ODD, STATS, GObject)

/* From an answer the caller checked against stats.json. */
OddStats    *odd_stats_new_from_json        (JsonObject  *object);

/* Properties "total", "completed", "failed", "in-flight", "throughput", "p50", "p95", "p99". */
gint64       odd_stats_get_total            (OddStats    *self);
gint64       odd_stats_get_completed        (OddStats    *self);
gint64       odd_stats_get_failed           (OddStats    *self);
gint64       odd_stats_get_in_flight        (OddStats    *self);
/* Jobs per second; 0 when the answer has none. */
double       odd_stats_get_throughput       (OddStats    *self);
/* Latency percentiles in ms; 0 when the answer has none. */
double       odd_stats_get_p50              (OddStats    *self);
double       odd_stats_get_p95              (OddStats    *self);
double       odd_stats_get_p99              (OddStats    *self);
/* The newest event's time as the read model wrote it ("" when none). */
const char  *odd_stats_get_last_event_time  (OddStats    *self);
/* The job types of "byType", sorted; an empty vector when none. */
const char * const *odd_stats_get_job_types (OddStats    *self);
/* FALSE when @job_type is not in "byType". */
gboolean     odd_stats_get_type_counts      (OddStats    *self,
                                             const char  *job_type,
                                             gint64      *submitted,
                                             gint64      *completed,
                                             gint64      *failed);

G_END_DECLS
