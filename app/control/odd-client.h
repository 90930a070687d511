/* odd-client.h: the one client of the read model and the gateway, for every UI
 *
 * One SoupSession, every call async with a GCancellable, every answer checked against its
 * contract schema (contracts/schemas) before it becomes a typed result. Failures are
 * ODD_CLIENT_ERROR errors with a message fit to show (odd-client-error.h); cancelling gives
 * G_IO_ERROR_CANCELLED. Callbacks run on the main context that was thread-default at the
 * call. The endpoints may change at any time (a stack started); calls already sent finish
 * against the old ones.
 *
 * Lists a view scrolls through are GListModels (OddJobList, OddDeadLetterList); the other
 * lists come back as GPtrArrays of GObjects (their free function unrefs).
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "odd-alert.h"
#include "odd-client-error.h"
#include "odd-dead-letter.h"
#include "odd-endpoints.h"
#include "odd-health.h"
#include "odd-job.h"
#include "odd-queue.h"
#include "odd-series.h"
#include "odd-stats.h"

G_BEGIN_DECLS

#define ODD_CLIENT_DEFAULT_TIMEOUT_S  5
/* Limits of the services (their OpenAPI documents). */
#define ODD_CLIENT_SERIES_WINDOW_MAX  3600
#define ODD_CLIENT_JOBS_PAGE_MAX      500
#define ODD_CLIENT_RECENT_MAX         100
#define ODD_CLIENT_DLQ_LIMIT_MAX      500
#define ODD_CLIENT_REPLAY_BATCH_MAX   1000
#define ODD_CLIENT_REPLAY_KEYS_MAX    100
/* A longer answer is refused (ODD_CLIENT_ERROR_BAD_ANSWER): no valid one comes near it. */
#define ODD_CLIENT_ANSWER_MAX_BYTES   (32 * 1024 * 1024)

#define ODD_TYPE_CLIENT (odd_client_get_type ())
G_DECLARE_FINAL_TYPE (OddClient, odd_client, ODD, CLIENT, GObject)

/* Properties: "endpoints" (OddEndpoints), "timeout" (seconds, default 5; 0: none),
 * "user-agent" (construct only). */
OddClient    *odd_client_new                      (OddEndpoints         *endpoints);
OddEndpoints *odd_client_get_endpoints            (OddClient            *self);
void          odd_client_set_endpoints            (OddClient            *self,
                                                   OddEndpoints         *endpoints);
guint         odd_client_get_timeout              (OddClient            *self);
void          odd_client_set_timeout              (OddClient            *self,
                                                   guint                 seconds);

/* ---- the read model ---- */

/* GET /stats */
void          odd_client_get_stats_async          (OddClient            *self,
                                                   GCancellable         *cancellable,
                                                   GAsyncReadyCallback   callback,
                                                   gpointer              user_data);
OddStats     *odd_client_get_stats_finish         (OddClient            *self,
                                                   GAsyncResult         *result,
                                                   GError              **error);

/* GET /stats/series?window=@window_s (1..ODD_CLIENT_SERIES_WINDOW_MAX seconds) */
void          odd_client_get_series_async         (OddClient            *self,
                                                   guint                 window_s,
                                                   GCancellable         *cancellable,
                                                   GAsyncReadyCallback   callback,
                                                   gpointer              user_data);
OddSeries    *odd_client_get_series_finish        (OddClient            *self,
                                                   GAsyncResult         *result,
                                                   GError              **error);

/* GET /queues: OddQueue */
void          odd_client_get_queues_async         (OddClient            *self,
                                                   GCancellable         *cancellable,
                                                   GAsyncReadyCallback   callback,
                                                   gpointer              user_data);
GPtrArray    *odd_client_get_queues_finish        (OddClient            *self,
                                                   GAsyncResult         *result,
                                                   GError              **error);

/* GET /alerts: OddAlert */
void          odd_client_get_alerts_async         (OddClient            *self,
                                                   GCancellable         *cancellable,
                                                   GAsyncReadyCallback   callback,
                                                   gpointer              user_data);
GPtrArray    *odd_client_get_alerts_finish        (OddClient            *self,
                                                   GAsyncResult         *result,
                                                   GError              **error);

/* GET /jobs/recent?limit=@limit (1..ODD_CLIENT_RECENT_MAX): OddJob summaries, newest first */
void          odd_client_get_recent_jobs_async    (OddClient            *self,
                                                   guint                 limit,
                                                   GCancellable         *cancellable,
                                                   GAsyncReadyCallback   callback,
                                                   gpointer              user_data);
GPtrArray    *odd_client_get_recent_jobs_finish   (OddClient            *self,
                                                   GAsyncResult         *result,
                                                   GError              **error);

/* GET /jobs: one page of OddJob summaries, newest first (oldest first when @ascending). @status UNKNOWN: any; @job_type:
 * exactly this type, or NULL; @text: part of the id (e.g. its prefix), of the type or of the
 * last error, any case, or NULL; @cursor: NULL for the first page, else the @next_cursor of the page before;
 * @limit: 1..ODD_CLIENT_JOBS_PAGE_MAX. @next_cursor gets NULL on the last page. */
void          odd_client_search_jobs_async        (OddClient            *self,
                                                   OddJobStatus          status,
                                                   const char           *job_type,
                                                   const char           *text,
                                                   const char           *cursor,
                                                   gboolean              ascending,
                                                   guint                 limit,
                                                   GCancellable         *cancellable,
                                                   GAsyncReadyCallback   callback,
                                                   gpointer              user_data);
GPtrArray    *odd_client_search_jobs_finish       (OddClient            *self,
                                                   GAsyncResult         *result,
                                                   char                **next_cursor,
                                                   GError              **error);

/* GET /jobs/{id}: the job with its payload and timeline (odd_job_is_detail()). */
void          odd_client_get_job_async            (OddClient            *self,
                                                   const char           *job_id,
                                                   GCancellable         *cancellable,
                                                   GAsyncReadyCallback   callback,
                                                   gpointer              user_data);
OddJob       *odd_client_get_job_finish           (OddClient            *self,
                                                   GAsyncResult         *result,
                                                   GError              **error);

/* GET /dlq?queue=&state=&limit=: OddDeadLetter, newest first. @queue: "jobs.dead",
 * "jobs.failed.validation" or NULL for both; @pending: only those whose job has not run again
 * since (not replayed or retried yet); @limit 1..ODD_CLIENT_DLQ_LIMIT_MAX. @total gets how
 * many match in all (may be more than returned). */
void          odd_client_get_dead_letters_async   (OddClient            *self,
                                                   const char           *queue,
                                                   gboolean              pending,
                                                   guint                 limit,
                                                   GCancellable         *cancellable,
                                                   GAsyncReadyCallback   callback,
                                                   gpointer              user_data);
GPtrArray    *odd_client_get_dead_letters_finish  (OddClient            *self,
                                                   GAsyncResult         *result,
                                                   gint64               *total,
                                                   GError              **error);

/* GET /readyz of @service (each has its own URL; on the kind cluster only the gateway's and
 * the read model's are known: ODD_CLIENT_ERROR_INVALID for the others). A 503 with a health
 * body is a not-ready OddHealth, not an error. */
void          odd_client_get_health_async         (OddClient            *self,
                                                   OddService            service,
                                                   GCancellable         *cancellable,
                                                   GAsyncReadyCallback   callback,
                                                   gpointer              user_data);
OddHealth    *odd_client_get_health_finish        (OddClient            *self,
                                                   GAsyncResult         *result,
                                                   GError              **error);

/* ---- the gateway ---- */

/* POST /jobs, @count times (a burst, at most a few requests in flight): a job of @job_type
 * with @payload (a JSON object, or NULL). Returns the accepted job ids in order. If one is
 * refused the burst stops there; the error's message says how many were accepted before. */
void          odd_client_submit_jobs_async        (OddClient            *self,
                                                   const char           *job_type,
                                                   JsonNode             *payload,
                                                   guint                 count,
                                                   GCancellable         *cancellable,
                                                   GAsyncReadyCallback   callback,
                                                   gpointer              user_data);
GStrv         odd_client_submit_jobs_finish       (OddClient            *self,
                                                   GAsyncResult         *result,
                                                   GError              **error);

/* POST /jobs/{id}/retry: a FAILED job runs again as its next generation (@generation). */
void          odd_client_retry_job_async          (OddClient            *self,
                                                   const char           *job_id,
                                                   GCancellable         *cancellable,
                                                   GAsyncReadyCallback   callback,
                                                   gpointer              user_data);
gboolean      odd_client_retry_job_finish         (OddClient            *self,
                                                   GAsyncResult         *result,
                                                   gint64               *generation,
                                                   GError              **error);

/* POST /dlq/replay: the gateway replays the OLDEST dead letters first (jobs.dead, then
 * jobs.failed.validation). @limit: how many to take (1 for
 * one, N for several); 0 for all, in requests of ODD_CLIENT_REPLAY_BATCH_MAX until a request
 * finds nothing more to replay. Letters the gateway keeps (still invalid) stay in their queue
 * and are counted in "kept" with their reason. */
void          odd_client_replay_dead_letters_async  (OddClient          *self,
                                                     guint               limit,
                                                     GCancellable       *cancellable,
                                                     GAsyncReadyCallback callback,
                                                     gpointer            user_data);
OddReplayResult *odd_client_replay_dead_letters_finish (OddClient       *self,
                                                        GAsyncResult    *result,
                                                        GError         **error);

/* POST /dlq/replay {"ids": [...]}: exactly the letters of @keys (odd_dead_letter_get_message_key()),
 * in requests of ODD_CLIENT_REPLAY_KEYS_MAX. Each request is all or none: one letter that is
 * no longer waiting (replayed meanwhile) fails it with the gateway's 404, and the error says
 * how many the requests before had replayed. */
void          odd_client_replay_dead_letters_by_key_async  (OddClient          *self,
                                                            const char * const *keys,
                                                            GCancellable       *cancellable,
                                                            GAsyncReadyCallback callback,
                                                            gpointer            user_data);
OddReplayResult *odd_client_replay_dead_letters_by_key_finish (OddClient       *self,
                                                               GAsyncResult    *result,
                                                               GError         **error);

G_END_DECLS
