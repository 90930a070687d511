/* odd-new-job.h: the New Job dialog (a job or a burst of them), its input checked as typed */
#pragma once

#include <adwaita.h>

#include "odd-client.h"

G_BEGIN_DECLS

/* The most jobs one burst sends. */
#define ODD_NEW_JOB_MAX_COUNT 10000

/* The payload a job of the dialog gets: @payload_text (empty, or a JSON object without
 * "simulate") with "simulate" from @duration_ms and @fail_rate, checked against the contract
 * (simulation.json). NULL with a message fit to show under the field when it is not right. */
JsonNode  *odd_new_job_build_payload  (const char  *job_type,
                                       const char  *payload_text,
                                       guint        duration_ms,
                                       double       fail_rate,
                                       GError     **error);

/* Shows the dialog over @parent; the jobs go through @client. @on_submitted gets the accepted
 * ids (a GStrv) and the type once the gateway answered, on success only. */
typedef void (*OddNewJobSubmitted) (const char * const *ids,
                                    const char         *job_type,
                                    gpointer            user_data);

void       odd_new_job_dialog_present (GtkWindow          *parent,
                                       OddClient          *client,
                                       OddNewJobSubmitted  on_submitted,
                                       gpointer            user_data);

G_END_DECLS
