/* odd-jobs-page.h: the jobs (search, filters, detail with timeline, retry) and dead letters */
#pragma once

#include <adwaita.h>

#include "odd-client.h"
#include "odd-dead-letter-list.h"
#include "odd-job-list.h"

G_BEGIN_DECLS

#define ODD_TYPE_JOBS_PAGE (odd_jobs_page_get_type ())
G_DECLARE_FINAL_TYPE (OddJobsPage, odd_jobs_page, ODD, JOBS_PAGE, AdwBin)

/* Property: "client" (OddClient). */
GtkWidget         *odd_jobs_page_new               (OddClient   *client);
void               odd_jobs_page_set_client        (OddJobsPage *self,
                                                    OddClient   *client);
/* The list the page shows (its filters are the page's), and the dead letters. */
OddJobList        *odd_jobs_page_get_jobs          (OddJobsPage *self);
OddDeadLetterList *odd_jobs_page_get_dead_letters  (OddJobsPage *self);
/* What the search field, the status filter and the selection do, for tests. */
void               odd_jobs_page_search            (OddJobsPage *self,
                                                    const char  *text);
void               odd_jobs_page_filter_status     (OddJobsPage *self,
                                                    OddJobStatus status);
void               odd_jobs_page_select            (OddJobsPage *self,
                                                    guint        position);
/* "jobs" or "dead-letters" */
void               odd_jobs_page_show_view         (OddJobsPage *self,
                                                    const char  *name);
/* A click on the Created column's header: newest first (DESCENDING) or oldest first. */
void               odd_jobs_page_sort_by_time      (OddJobsPage *self,
                                                    GtkSortType  order);
/* The dead letters' selection (a GtkMultiSelection over odd_jobs_page_get_dead_letters()). */
GtkSelectionModel *odd_jobs_page_get_dead_selection (OddJobsPage *self);
/* The job the detail pane shows (with its timeline), NULL while none or loading. */
OddJob            *odd_jobs_page_get_detail        (OddJobsPage *self);
/* The detail pane's Retry, the dead letters' Replay (the selected ones) and Replay All. */
void               odd_jobs_page_retry             (OddJobsPage *self);
void               odd_jobs_page_replay_selected   (OddJobsPage *self);
void               odd_jobs_page_replay_all        (OddJobsPage *self);
/* The last message the page showed in a toast (tests). */
const char        *odd_jobs_page_get_last_message  (OddJobsPage *self);

G_END_DECLS
