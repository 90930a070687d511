/* odd-job-event.h: one event of a job's timeline (an event envelope of job-detail.json) */
#pragma once

#include <glib-object.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define ODD_TYPE_JOB_EVENT (odd_job_event_get_type ())
G_DECLARE_FINAL_TYPE (OddJobEvent, odd_job_event, ODD, JOB_EVENT, GObject)

/* From an envelope the caller checked against the schema. @previous: the event before it in
 * the timeline (for the duration), or NULL. */
OddJobEvent *odd_job_event_new_from_json     (JsonObject  *envelope,
                                              OddJobEvent *previous);

/* "job.created", "job.validated", "job.executed", "job.failed", "job.completed" */
const char  *odd_job_event_get_event_type    (OddJobEvent *self);
const char  *odd_job_event_get_event_id      (OddJobEvent *self);
GDateTime   *odd_job_event_get_occurred_at   (OddJobEvent *self);
/* The producing service ("processor"). */
const char  *odd_job_event_get_producer      (OddJobEvent *self);
/* The job's status the event carries (payload.status), "" when none. */
const char  *odd_job_event_get_status        (OddJobEvent *self);
/* metadata.attempt, -1 when absent. */
gint64       odd_job_event_get_attempt       (OddJobEvent *self);
/* metadata.outcome and metadata.error, NULL when absent. */
const char  *odd_job_event_get_outcome       (OddJobEvent *self);
const char  *odd_job_event_get_error         (OddJobEvent *self);
/* Microseconds since the previous event of the timeline, 0 for the first. */
gint64       odd_job_event_get_duration      (OddJobEvent *self);
/* The whole envelope. */
JsonNode    *odd_job_event_get_envelope      (OddJobEvent *self);

G_END_DECLS
