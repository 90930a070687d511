/* test-jobs-page.c: the Jobs page against a real stack (the fixture's)
 *
 * Jobs of known outcomes go in (12 complete, 4 fail every attempt). The page, in a window,
 * must page through all of them by itself with a small page size, filter them by status, find
 * one by its id prefix and the failed ones by their error text, show a job's timeline, retry a
 * FAILED job (it runs again as generation 1), and replay the dead letters.
 */
#define G_LOG_DOMAIN "test-jobs-page"

#include <string.h>

#include "odd-client.h"
#include "odd-ids.h"
#include "odd-it.h"
#include "odd-jobs-page.h"
#include "odd-gui-test.h"

#define N_OK     12
#define N_DOOMED 4
#define N_JOBS   (N_OK + N_DOOMED)

static OddIt *it;
static OddClient *client;
static GPtrArray *ok_ids;
static GPtrArray *doomed_ids;

static gboolean
all_done (OddIt   *self,
          gpointer data)
{
  OddItStats stats;

  odd_it_get_stats (self, &stats);
  return stats.total == N_JOBS && stats.in_flight == 0 && stats.completed + stats.failed == N_JOBS;
}

static gboolean
list_complete (OddJobList *jobs,
               guint       n)
{
  return !odd_job_list_get_loading (jobs) && !odd_job_list_get_has_more (jobs) &&
         g_list_model_get_n_items (G_LIST_MODEL (jobs)) == n;
}

static gboolean
list_holds (OddJobList *jobs,
            GPtrArray  *ids)
{
  for (guint i = 0; i < ids->len; i++)
    {
      gboolean found = FALSE;

      for (guint k = 0; k < g_list_model_get_n_items (G_LIST_MODEL (jobs)) && !found; k++)
        {
          g_autoptr(OddJob) job = g_list_model_get_item (G_LIST_MODEL (jobs), k);

          found = g_str_equal (odd_job_get_id (job), ids->pdata[i]);
        }
      if (!found)
        return FALSE;
    }
  return TRUE;
}

static gboolean
detail_is (OddJobsPage *page,
           const char  *id,
           gint64       generation)
{
  OddJob *job = odd_jobs_page_get_detail (page);

  return job != NULL && g_str_equal (odd_job_get_id (job), id) && odd_job_get_generation (job) == generation;
}

static void
test_jobs_page (void)
{
  OddJobsPage *page = ODD_JOBS_PAGE (odd_jobs_page_new (client));
  OddJobList *jobs = odd_jobs_page_get_jobs (page);
  OddDeadLetterList *dead = odd_jobs_page_get_dead_letters (page);
  GtkWindow *window;
  g_autofree char *prefix = NULL;
  guint failed_position = G_MAXUINT;

  /* Pages of 5: the view asks for the next ones itself until all are there. */
  odd_job_list_set_page_size (jobs, 5);
  window = odd_gui_test_window (GTK_WIDGET (page), 1200, 800);
  ODD_GUI_ASSERT_WITHIN (list_complete (jobs, N_JOBS), 60);
  g_assert_true (list_holds (jobs, ok_ids));
  g_assert_true (list_holds (jobs, doomed_ids));

  /* Status filter. */
  odd_jobs_page_filter_status (page, ODD_JOB_STATUS_FAILED);
  ODD_GUI_ASSERT_WITHIN (list_complete (jobs, N_DOOMED), 30);
  g_assert_true (list_holds (jobs, doomed_ids));
  odd_jobs_page_filter_status (page, ODD_JOB_STATUS_UNKNOWN);

  /* By id prefix, and by error text. */
  prefix = g_strndup (ok_ids->pdata[3], 13);
  odd_jobs_page_search (page, prefix);
  ODD_GUI_ASSERT_WITHIN (list_complete (jobs, 1), 30);
  {
    g_autoptr(OddJob) job = g_list_model_get_item (G_LIST_MODEL (jobs), 0);

    g_assert_cmpstr (odd_job_get_id (job), ==, ok_ids->pdata[3]);
  }
  odd_jobs_page_search (page, "first 5 that fail");
  ODD_GUI_ASSERT_WITHIN (list_complete (jobs, N_DOOMED), 30);
  g_assert_true (list_holds (jobs, doomed_ids));

  /* A failed job's detail: its fields and timeline. */
  for (guint i = 0; i < N_DOOMED; i++)
    {
      g_autoptr(OddJob) job = g_list_model_get_item (G_LIST_MODEL (jobs), i);

      if (g_str_equal (odd_job_get_id (job), doomed_ids->pdata[0]))
        failed_position = i;
    }
  g_assert_cmpuint (failed_position, <, N_DOOMED);
  odd_jobs_page_select (page, failed_position);
  ODD_GUI_ASSERT_WITHIN (detail_is (page, doomed_ids->pdata[0], 0), 30);
  g_assert_cmpint (odd_job_get_status (odd_jobs_page_get_detail (page)), ==, ODD_JOB_STATUS_FAILED);
  g_assert_cmpuint (g_list_model_get_n_items (odd_job_get_events (odd_jobs_page_get_detail (page))), >=, 3);

  for (int dark = 0; dark <= 1; dark++)
    {
      odd_gui_test_set_dark (dark);
      odd_gui_test_spin (400);
      odd_gui_test_save_screenshot (window, dark ? "jobs-dark" : "jobs-light");
    }
  odd_gui_test_set_dark (FALSE);

  /* Retry: it runs again as generation 1 (and, its simulation failing, fails again). */
  odd_jobs_page_retry (page);
  ODD_GUI_ASSERT_WITHIN (g_strcmp0 (odd_jobs_page_get_last_message (page), "The job runs again as generation 1") == 0, 30);
  ODD_GUI_ASSERT_WITHIN (detail_is (page, doomed_ids->pdata[0], 1), 30);

  /* Dead letters: the doomed jobs' are there; Replay All sends them back. */
  ODD_GUI_ASSERT_WITHIN (odd_dead_letter_list_get_total (dead) >= N_DOOMED, 30);
  /* New Job: the dialog with its defaults, submitted as it is. */
  {
    AdwMessageDialog *dialog = NULL;
    OddItStats before, after;
    GListModel *toplevels = gtk_window_get_toplevels ();  /* GTK's own */

    odd_it_get_stats (it, &before);
    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (page), "jobs.new-job", NULL));
    for (guint i = 0; i < g_list_model_get_n_items (toplevels) && dialog == NULL; i++)
      {
        g_autoptr(GObject) top = g_list_model_get_item (toplevels, i);

        if (ADW_IS_MESSAGE_DIALOG (top))
          dialog = ADW_MESSAGE_DIALOG (top);
      }
    g_assert_nonnull (dialog);
    g_assert_true (adw_message_dialog_get_response_enabled (dialog, "submit"));
    ODD_GUI_ASSERT_WITHIN (gtk_widget_get_mapped (GTK_WIDGET (dialog)), 10);
    odd_gui_test_spin (300);
    odd_gui_test_save_screenshot (GTK_WINDOW (dialog), "jobs-new-job-light");
    adw_message_dialog_response (dialog, "submit");
    ODD_GUI_ASSERT_WITHIN (g_strcmp0 (odd_jobs_page_get_last_message (page), "Submitted 1 job") == 0, 30);
    odd_it_get_stats (it, &after);
    ODD_GUI_ASSERT_WITHIN ((odd_it_get_stats (it, &after), after.total == before.total + 1), 30);
  }

  odd_jobs_page_show_view (page, "dead-letters");
  odd_gui_test_spin (400);
  odd_gui_test_save_screenshot (window, "jobs-dead-letters-light");
  odd_jobs_page_replay_all (page);
  ODD_GUI_ASSERT_WITHIN (g_str_has_prefix (odd_jobs_page_get_last_message (page) ?: "", "Replayed "), 30);
  g_test_message ("%s", odd_jobs_page_get_last_message (page));
  g_assert_false (g_str_has_prefix (odd_jobs_page_get_last_message (page), "Replayed 0"));

  gtk_window_destroy (window);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(OddEndpoints) endpoints = NULL;
  int status;

  odd_gui_test_init (&argc, &argv);
  it = odd_it_start ();
  endpoints = odd_endpoints_new (odd_it_read_model_url (it), odd_it_gateway_url (it), ODD_ENDPOINTS_SOURCE_ENV);
  client = odd_client_new (endpoints);

  ok_ids = g_ptr_array_new_with_free_func (g_free);
  doomed_ids = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < N_JOBS; i++)
    {
      char *id = odd_uuid_new ();

      g_assert_cmpuint (odd_it_submit (it, id, i < N_OK ? "jp-demo" : "jp-doomed",
                                       i < N_OK ? "{\"durationMs\": 10}" : "{\"failAttempts\": 5}"), ==, 202);
      g_ptr_array_add (i < N_OK ? ok_ids : doomed_ids, id);
    }
  g_assert_true (odd_it_wait (it, all_done, NULL, 120, 200));

  g_test_add_func ("/jobs-page/list-search-retry-replay", test_jobs_page);
  status = g_test_run ();

  g_clear_pointer (&ok_ids, g_ptr_array_unref);
  g_clear_pointer (&doomed_ids, g_ptr_array_unref);
  g_clear_object (&client);
  odd_it_stop (it);
  return status;
}
