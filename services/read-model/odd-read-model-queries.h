/* odd-read-model-queries.h: the reads behind every endpoint, as JSON
 *
 * Each function runs on a worker thread with that thread's PostgreSQL connection or Redis
 * context and returns the answer body (or the data of an alert snapshot). They never write.
 * Errors keep their domain: ODD_PG_ERROR, ODD_REDIS_ERROR, ODD_AMQP_ERROR, and
 * G_IO_ERROR_NOT_FOUND for a job that does not exist.
 */
#pragma once

#include <json-glib/json-glib.h>
#include <libpq-fe.h>
#include <hiredis/hiredis.h>

G_BEGIN_DECLS

/* The five job statuses of contracts/schemas/job.json. */
extern const char *const odd_job_statuses[];
gboolean  odd_job_status_is_valid (const char *status);

/* The queues whose depth /queues reports. */
extern const char *const odd_read_model_queues[];
/* The dead-letter queues (GET /dlq?queue=). */
gboolean  odd_dead_letter_queue_is_valid (const char *queue);

/* @text with \, % and _ escaped for LIKE/ILIKE (default escape character). */
char     *odd_like_escape (const char *text);

typedef struct {
  const char *status;       /* nullable: any */
  const char *type;         /* nullable: any */
  const char *q;            /* nullable: case-insensitive substring of id, type or last error */
  gboolean    has_cursor;
  gboolean    ascending;    /* oldest first; newest first when FALSE */
  gint64      cursor_usec;  /* created_at of the last row already seen */
  const char *cursor_id;
  guint       limit;
} OddJobsQuery;

/* PostgreSQL */
JsonNode *odd_read_model_query_recent_jobs (PGconn             *pg,
                                            guint               limit,
                                            GError            **error);
JsonNode *odd_read_model_query_job         (PGconn             *pg,
                                            const char         *job_id,
                                            GError            **error);
JsonNode *odd_read_model_query_jobs        (PGconn             *pg,
                                            const OddJobsQuery *query,
                                            GError            **error);
JsonNode *odd_read_model_query_events      (PGconn             *pg,
                                            const char         *job_id,
                                            guint               limit,
                                            GError            **error);
/* @pending: only the letters whose job has not run again since it died (by a replay or a
 * retry; a letter of a job never stored counts as pending until the job is). */
JsonNode *odd_read_model_query_dlq         (PGconn             *pg,
                                            const char         *queue,
                                            gboolean            pending,
                                            guint               limit,
                                            GError            **error);
gboolean  odd_read_model_query_recent_dead_letters (PGconn     *pg,
                                                    guint       window_sec,
                                                    gint64     *count,
                                                    gint64     *oldest_usec,
                                                    GError    **error);

/* Redis */
JsonNode *odd_read_model_query_stats       (redisContext       *redis,
                                            gint64              now_sec,
                                            GError            **error);
JsonNode *odd_read_model_query_series      (redisContext       *redis,
                                            gint64              now_sec,
                                            guint               window,
                                            GError            **error);
/* OddSecondBucket (odd-alerts.h) for the @n seconds from @first_second. */
GArray   *odd_read_model_query_seconds     (redisContext       *redis,
                                            gint64              first_second,
                                            guint               n,
                                            GError            **error);
/* {"queues": [...]} from the metrics-engine's sample, or NULL without @error when there is
 * none or it is stale (no queue_depth sample in the last 10 s before @now_sec). */
JsonNode *odd_read_model_query_queues_redis (redisContext      *redis,
                                             gint64             now_sec,
                                             GError           **error);

/* RabbitMQ: {"queues": [...]} by passive declares on a short-lived connection. */
JsonNode *odd_read_model_query_queues_amqp (const char         *url,
                                            GError            **error);

G_END_DECLS
