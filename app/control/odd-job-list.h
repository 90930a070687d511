/* odd-job-list.h: the jobs that match a search, as a GListModel of OddJob paged by cursor
 *
 * Empty until odd_job_list_load_more_async() brings the first page; each further call appends
 * the next page (keyset cursor, never an offset) until "has-more" is FALSE. Changing a filter
 * ("status", "job-type", "text"), the order ("ascending") or "page-size" empties the list and cancels a load in
 * flight; the view then loads again. A view sits on it and calls load_more as the user
 * scrolls near the end; a second call while one runs waits for the first's page.
 */
#pragma once

#include <gio/gio.h>

#include "odd-client.h"

G_BEGIN_DECLS

#define ODD_JOB_LIST_DEFAULT_PAGE_SIZE 100

#define ODD_TYPE_JOB_LIST (odd_job_list_get_type ())
G_DECLARE_FINAL_TYPE (OddJobList, odd_job_list, ODD, JOB_LIST, GObject)

/* Properties: "client", "status" (OddJobStatus, UNKNOWN: any), "job-type", "text",
 * "ascending" (by creation time, oldest first; FALSE, the default: newest first), "page-size", and read-only "loading", "has-more" (TRUE until a page ends the list) and
 * "n-items". */
OddJobList   *odd_job_list_new                (OddClient            *client);

OddClient    *odd_job_list_get_client         (OddJobList           *self);
OddJobStatus  odd_job_list_get_status         (OddJobList           *self);
void          odd_job_list_set_status         (OddJobList           *self,
                                               OddJobStatus          status);
const char   *odd_job_list_get_job_type       (OddJobList           *self);
void          odd_job_list_set_job_type       (OddJobList           *self,
                                               const char           *job_type);
const char   *odd_job_list_get_text           (OddJobList           *self);
void          odd_job_list_set_text           (OddJobList           *self,
                                               const char           *text);
gboolean      odd_job_list_get_ascending      (OddJobList           *self);
void          odd_job_list_set_ascending      (OddJobList           *self,
                                               gboolean              ascending);
guint         odd_job_list_get_page_size      (OddJobList           *self);
void          odd_job_list_set_page_size      (OddJobList           *self,
                                               guint                 page_size);
gboolean      odd_job_list_get_loading        (OddJobList           *self);
gboolean      odd_job_list_get_has_more       (OddJobList           *self);

/* Empties the list (the next load starts at the first job of the order again). */
void          odd_job_list_reset              (OddJobList           *self);
/* Appends the next page. TRUE also when there was nothing more to load. */
void          odd_job_list_load_more_async    (OddJobList           *self,
                                               GCancellable         *cancellable,
                                               GAsyncReadyCallback   callback,
                                               gpointer              user_data);
gboolean      odd_job_list_load_more_finish   (OddJobList           *self,
                                               GAsyncResult         *result,
                                               GError              **error);

G_END_DECLS
