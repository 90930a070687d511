/* odd-it.h: what every integration test needs around one running stack
 *
 * A test program starts ONE stack (the local-stack fixture), talks to it over HTTP with a
 * synchronous libsoup session, and checks the stores directly with libpq and hiredis.
 * Everything here asserts on failure: a broken environment is a failed test, not a skip.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include <libpq-fe.h>

G_BEGIN_DECLS

typedef struct _OddIt OddIt;

/* The services of a stack, as the fixture names them. */
#define ODD_IT_GATEWAY        "gateway"
#define ODD_IT_PROCESSOR      "processor"
#define ODD_IT_METRICS_ENGINE "metrics-engine"
#define ODD_IT_READ_MODEL     "read-model"
#define ODD_IT_RABBITMQ       "rabbitmq"
#define ODD_IT_REDIS          "redis"
#define ODD_IT_POSTGRES       "postgres"

/* Starts a stack (and waits until the gateway and read-model are ready). */
OddIt      *odd_it_start            (void);
/* The same with replicas of services ("processor=3,metrics-engine=2"), each a component of
 * its own ("processor-2") for odd_it_kill() and the others. */
OddIt      *odd_it_start_with_replicas (const char *replicas);
void        odd_it_stop             (OddIt *it);

const char *odd_it_gateway_url      (OddIt *it);
/* Any component's URL by its name (ODD_IT_PROCESSOR, ODD_IT_RABBITMQ, ...). */
const char *odd_it_service_url      (OddIt      *it,
                                     const char *name);
const char *odd_it_read_model_url   (OddIt *it);
const char *odd_it_postgres_url     (OddIt *it);
const char *odd_it_redis_url        (OddIt *it);

/* Fault injection through the fixture. */
void        odd_it_kill             (OddIt      *it,
                                     const char *name,
                                     int         signum);
void        odd_it_restart          (OddIt      *it,
                                     const char *name);
gboolean    odd_it_can_inject_faults (OddIt *it);
/* The pid of a running component ("processor-2" too), 0 when it is not running. */
GPid        odd_it_service_pid      (OddIt      *it,
                                     const char *name);
/* Open file descriptors of a component (/proc/PID/fd), -1 when it is not known. */
int         odd_it_count_fds        (OddIt      *it,
                                     const char *name);
/* Sets the length limit of jobs.created on the running broker (the policy the local stack
 * sets; 0 = none). */
void        odd_it_set_queue_limit  (OddIt      *it,
                                     gint64      max_length);
/* Publishes @body straight to @queue (persistent, confirmed): what no gateway would send. */
void        odd_it_publish_raw      (OddIt      *it,
                                     const char *queue,
                                     const void *body,
                                     gsize       len);
/* Starts whatever of the stack is not running and waits until it is ready. */
void        odd_it_up               (OddIt      *it);

/* ---- HTTP ---- */

typedef struct {
  guint     status;        /* 0 when the request failed at transport level */
  char     *transport_error;
  char     *content_type;
  char     *retry_after;   /* the Retry-After header, NULL when absent */
  GBytes   *body;
  JsonNode *json;          /* NULL unless the body parsed as JSON */
} OddItResponse;

void           odd_it_response_free (OddItResponse *response);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OddItResponse, odd_it_response_free)

/* A synchronous request; never asserts (callers decide what a failure means).
 * Safe from any thread: each thread gets its own session. */
OddItResponse *odd_it_request       (const char *method,
                                     const char *url,
                                     const char *content_type,
                                     const void *body,
                                     gsize       body_len);
/* GET @base@path and assert 200 + JSON. */
JsonNode      *odd_it_get_json      (const char *base,
                                     const char *path);
/* printf-style path under @base. */
char          *odd_it_url           (const char *base,
                                     const char *path_format,
                                     ...) G_GNUC_PRINTF (2, 3);

/* Asserts @instance is valid against contracts schema @schema_name (contracts/schemas). */
void           odd_it_assert_valid  (const char *schema_name,
                                     JsonNode   *instance);

/* ---- jobs ---- */

/* A full Job body (contract job.json) with a fresh id returned in @job_id, or NULL to use
 * @job_id as given. @simulate_json is the payload.simulate object text or NULL. */
char          *odd_it_job_body      (const char *job_id,
                                     const char *type,
                                     const char *simulate_json);
/* POST /jobs; returns the HTTP status (0 on transport failure). */
guint          odd_it_submit        (OddIt      *it,
                                     const char *job_id,
                                     const char *type,
                                     const char *simulate_json);

/* ---- read-model views ---- */

/* GET /stats (asserts 200); the four counters. */
typedef struct {
  gint64 total;
  gint64 completed;
  gint64 failed;
  gint64 in_flight;
} OddItStats;

void           odd_it_get_stats     (OddIt      *it,
                                     OddItStats *stats);
/* Walks GET /jobs?status=@status with the cursor; a set of job ids (asserts no id twice). */
GHashTable    *odd_it_list_jobs     (OddIt      *it,
                                     const char *status,
                                     guint       page_size);
/* The array of a list answer: the body itself, or its "items" member. */
JsonArray     *odd_it_list_items    (JsonNode   *body);
const char    *odd_it_next_cursor   (JsonNode   *body);

/* GET /jobs/{id} (asserts 200): returns the body; @job the job, @timeline its events,
 * oldest first. */
JsonNode      *odd_it_get_job       (OddIt       *it,
                                     const char  *id,
                                     JsonObject **job,
                                     JsonArray  **timeline);
/* The eventType of a timeline entry. */
const char    *odd_it_event_type    (JsonObject  *event);

/* ---- PostgreSQL ---- */

PGconn        *odd_it_pg            (OddIt      *it);   /* one connection per call; PQfinish it */
/* The first column of the first row as an integer; asserts a single row. */
gint64         odd_it_pg_int        (PGconn     *conn,
                                     const char *sql,
                                     const char *param);
/* Every row's first column. */
GPtrArray     *odd_it_pg_column     (PGconn     *conn,
                                     const char *sql,
                                     const char *param);

/* ---- Redis ---- */

void           odd_it_redis_command (OddIt      *it,
                                     const char *command);

/* ---- waiting ---- */

typedef gboolean (*OddItCondition) (OddIt   *it,
                                    gpointer data);
/* Polls @condition every @poll_ms until TRUE or @timeout_s passes; FALSE on timeout.
 * $ODD_IT_TIME_SCALE (an integer, default 1) multiplies @timeout_s. */
guint          odd_it_time_scale    (void);
gboolean       odd_it_wait          (OddIt         *it,
                                     OddItCondition condition,
                                     gpointer       data,
                                     guint          timeout_s,
                                     guint          poll_ms);

/* Asserts that the stores and the read-model agree exactly:
 * jobs table counts == /stats == job_events counts (and no job still in flight).
 * @expected_total < 0 skips the total check. Returns the number of FAILED jobs. */
gint64         odd_it_assert_agreement (OddIt  *it,
                                        gint64  expected_total);

G_END_DECLS
