/* odd-job.h: one job as the read model shows it
 *
 * A summary (from GET /jobs, /jobs/recent) has id, type, status, times and attempts; a detail
 * (GET /jobs/{id}) also has the payload, generation, last error, start and finish times and
 * its timeline of events, oldest first. Immutable once made.
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "odd-job-event.h"

G_BEGIN_DECLS

typedef enum
{
  ODD_JOB_STATUS_UNKNOWN,    /* as a filter: any status */
  ODD_JOB_STATUS_PENDING,
  ODD_JOB_STATUS_VALIDATED,
  ODD_JOB_STATUS_EXECUTING,
  ODD_JOB_STATUS_COMPLETED,
  ODD_JOB_STATUS_FAILED,
} OddJobStatus;

#define ODD_TYPE_JOB_STATUS (odd_job_status_get_type ())
GType         odd_job_status_get_type     (void) G_GNUC_CONST;
/* "PENDING" ... "FAILED"; NULL for UNKNOWN. */
const char   *odd_job_status_to_string    (OddJobStatus  status);
/* UNKNOWN for NULL or anything else. */
OddJobStatus  odd_job_status_from_string  (const char   *text);

#define ODD_TYPE_JOB (odd_job_get_type ())
G_DECLARE_FINAL_TYPE (OddJob, odd_job, ODD, JOB, GObject)

/* From a jobSummary object of jobs-page.json / jobs-recent.json, or a job-detail.json answer
 * ({"job": ..., "events": [...]}). The caller checked the schema; NULL with a critical when
 * a required member is missing. */
OddJob       *odd_job_new_from_summary    (JsonObject   *summary);
OddJob       *odd_job_new_from_detail     (JsonObject   *detail);

/* Properties of the same names: "id", "job-type", "status", "created-at", "updated-at",
 * "attempts", and for a detail "generation", "last-error", "started-at", "finished-at",
 * "payload", "events", "is-detail". */
const char   *odd_job_get_id              (OddJob       *self);
const char   *odd_job_get_job_type        (OddJob       *self);
OddJobStatus  odd_job_get_status          (OddJob       *self);
GDateTime    *odd_job_get_created_at      (OddJob       *self);
/* NULL when not known. */
GDateTime    *odd_job_get_updated_at      (OddJob       *self);
/* created-at in microseconds since the epoch (0 when unknown), without making a GDateTime:
 * for lists of many jobs. */
gint64        odd_job_get_created_usec    (OddJob       *self);
gint64        odd_job_get_attempts        (OddJob       *self);
gboolean      odd_job_is_detail           (OddJob       *self);
gint64        odd_job_get_generation      (OddJob       *self);
/* NULL when none (or a summary). */
const char   *odd_job_get_last_error      (OddJob       *self);
GDateTime    *odd_job_get_started_at      (OddJob       *self);
GDateTime    *odd_job_get_finished_at     (OddJob       *self);
/* The payload object, NULL for a summary. */
JsonNode     *odd_job_get_payload         (OddJob       *self);
/* The timeline (OddJobEvent, oldest first), NULL for a summary. */
GListModel   *odd_job_get_events          (OddJob       *self);

G_END_DECLS
