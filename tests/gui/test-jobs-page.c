/* test-jobs-page.c: the Jobs page against a real stack (the fixture's)
 *
 * Jobs of known outcomes go in: 12 complete, 4 fail every attempt of their first generation
 * and complete in their second (failRate 0.5 with ids picked by the processor's deterministic
 * draw). The page, in a window, must page through all of them by itself with a small page
 * size, newest and oldest first, filter them by status, find one by its id prefix and the
 * failed ones by their error text, show a job's timeline, retry a FAILED job until it is
 * COMPLETED, replay one selected dead letter and then all the others, until none is left.
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

/* Simulated failure rate of the doomed jobs, and how many attempts of their first generation
 * must fail (more than the processor's ODD_MAX_ATTEMPTS, 3). */
#define DOOMED_FAIL_RATE 0.5
#define DOOMED_ATTEMPTS  10

/* The processor's deterministic draw of an attempt's outcome (odd-processor-sim.c, declared
 * in odd-processor-private.h, whose OddService clashes with libodd-control's). */
double odd_processor_draw (const char *job_id,
                           int         generation,
                           int         attempt);

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

/* A job id whose first generation fails every attempt and whose second completes at once. */
static char *
doomed_id_new (void)
{
  for (;;)
    {
      g_autofree char *id = odd_uuid_new ();
      gboolean fails = TRUE;

      for (int attempt = 1; attempt <= DOOMED_ATTEMPTS && fails; attempt++)
        fails = odd_processor_draw (id, 0, attempt) < DOOMED_FAIL_RATE;
      if (fails && odd_processor_draw (id, 1, 1) >= DOOMED_FAIL_RATE)
        return g_steal_pointer (&id);
    }
}

static gboolean
list_in_time_order (OddJobList *jobs,
                    gboolean    ascending)
{
  for (guint i = 1; i < g_list_model_get_n_items (G_LIST_MODEL (jobs)); i++)
    {
      g_autoptr(OddJob) before = g_list_model_get_item (G_LIST_MODEL (jobs), i - 1);
      g_autoptr(OddJob) after = g_list_model_get_item (G_LIST_MODEL (jobs), i);
      int order = g_date_time_compare (odd_job_get_created_at (before), odd_job_get_created_at (after));

      if (ascending ? order > 0 : order < 0)
        return FALSE;
    }
  return TRUE;
}

static char *
job_status (const char *id)
{
  g_autofree char *path = g_strdup_printf ("/jobs/%s", id);
  g_autoptr(JsonNode) body = odd_it_get_json (odd_it_read_model_url (it), path);

  return g_strdup (json_object_get_string_member (json_object_get_object_member (json_node_get_object (body), "job"),
                                                  "status"));
}

static gboolean
job_is (const char *id,
        const char *status)
{
  g_autofree char *now = job_status (id);

  return g_strcmp0 (now, status) == 0;
}

/* Messages waiting in @queue, as GET /queues tells. */
static gint64
queue_depth (const char *queue)
{
  g_autoptr(JsonNode) body = odd_it_get_json (odd_it_read_model_url (it), "/queues");
  JsonArray *queues = json_object_get_array_member (json_node_get_object (body), "queues");

  for (guint i = 0; i < json_array_get_length (queues); i++)
    {
      JsonObject *q = json_array_get_object_element (queues, i);

      if (g_str_equal (json_object_get_string_member (q, "name"), queue))
        return json_object_get_int_member (q, "messages");
    }
  return -1;
}

static void
store_result (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

/* Refreshes the dead letters as the page's Refresh does, and waits for the answer. */
static gint64
dead_total (OddJobsPage *page)
{
  OddDeadLetterList *dead = odd_jobs_page_get_dead_letters (page);

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (page), "jobs.refresh", NULL));
  ODD_GUI_ASSERT_WITHIN (!odd_dead_letter_list_get_loading (dead), 30);
  return odd_dead_letter_list_get_total (dead);
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
  GtkWindow *window;
  g_autofree char *prefix = NULL;
  guint failed_position = G_MAXUINT;

  /* Pages of 5: the view asks for the next ones itself until all are there. */
  odd_job_list_set_page_size (jobs, 5);
  window = odd_gui_test_window (GTK_WIDGET (page), 1200, 800);
  ODD_GUI_ASSERT_WITHIN (list_complete (jobs, N_JOBS), 60);
  g_assert_true (list_holds (jobs, ok_ids));
  g_assert_true (list_holds (jobs, doomed_ids));

  /* Oldest first, as a click on the Created header asks: the same jobs, by cursor again. */
  odd_jobs_page_sort_by_time (page, GTK_SORT_ASCENDING);
  g_assert_true (odd_job_list_get_ascending (jobs));
  ODD_GUI_ASSERT_WITHIN (list_complete (jobs, N_JOBS), 60);
  g_assert_true (list_holds (jobs, ok_ids));
  g_assert_true (list_holds (jobs, doomed_ids));
  g_assert_true (list_in_time_order (jobs, TRUE));
  odd_jobs_page_sort_by_time (page, GTK_SORT_DESCENDING);
  g_assert_false (odd_job_list_get_ascending (jobs));
  ODD_GUI_ASSERT_WITHIN (list_complete (jobs, N_JOBS), 60);
  g_assert_true (list_in_time_order (jobs, FALSE));

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
  odd_jobs_page_search (page, "failRate 0.5 on attempt");
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

  /* Retry: it runs again as generation 1, and this time completes. */
  odd_jobs_page_retry (page);
  ODD_GUI_ASSERT_WITHIN (g_strcmp0 (odd_jobs_page_get_last_message (page), "The job runs again as generation 1") == 0, 30);
  ODD_GUI_ASSERT_WITHIN (job_is (doomed_ids->pdata[0], "COMPLETED"), 60);
  odd_jobs_page_select (page, GTK_INVALID_LIST_POSITION);
  odd_jobs_page_select (page, failed_position);
  ODD_GUI_ASSERT_WITHIN (detail_is (page, doomed_ids->pdata[0], 1), 30);
  g_assert_cmpint (odd_job_get_status (odd_jobs_page_get_detail (page)), ==, ODD_JOB_STATUS_COMPLETED);

  /* Dead letters: the doomed jobs' wait there, but the retried one's is settled. */
  ODD_GUI_ASSERT_WITHIN (dead_total (page) == N_DOOMED - 1, 30);
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

  /* Replay of a selection of one: that letter goes back, the list refreshes without it. */
  odd_jobs_page_show_view (page, "dead-letters");
  {
    GtkSelectionModel *selection = odd_jobs_page_get_dead_selection (page);
    g_autoptr(OddDeadLetter) chosen = NULL;

    ODD_GUI_ASSERT_WITHIN (g_list_model_get_n_items (G_LIST_MODEL (selection)) == N_DOOMED - 1, 30);
    g_assert_true (gtk_selection_model_select_item (selection, 0, TRUE));
    chosen = g_list_model_get_item (G_LIST_MODEL (selection), 0);
    g_assert_nonnull (odd_dead_letter_get_message_key (chosen));
    for (int dark = 0; dark <= 1; dark++)
      {
        odd_gui_test_set_dark (dark);
        odd_gui_test_spin (400);
        odd_gui_test_save_screenshot (window, dark ? "jobs-dead-letters-dark" : "jobs-dead-letters-light");
      }
    odd_gui_test_set_dark (FALSE);
    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (page), "jobs.replay-selected", NULL));
    ODD_GUI_ASSERT_WITHIN (g_strcmp0 (odd_jobs_page_get_last_message (page), "Replayed 1 dead letter") == 0, 30);
    ODD_GUI_ASSERT_WITHIN (job_is (odd_dead_letter_get_job_id (chosen), "COMPLETED"), 60);
    ODD_GUI_ASSERT_WITHIN (dead_total (page) == N_DOOMED - 2, 30);

    /* The same letter again (a second click on a stale list): refused, nothing replayed twice. */
    {
      const char *keys[] = { odd_dead_letter_get_message_key (chosen), NULL };
      g_autoptr(GError) error = NULL;
      GAsyncResult *result = NULL;
      g_autoptr(OddReplayResult) again = NULL;

      odd_client_replay_dead_letters_by_key_async (client, keys, NULL, store_result, &result);
      ODD_GUI_ASSERT_WITHIN (result != NULL, 30);
      again = odd_client_replay_dead_letters_by_key_finish (client, result, &error);
      g_object_unref (result);
      g_assert_null (again);
      g_assert_nonnull (strstr (error->message, "not found"));
    }
  }

  /* Replay All: every letter left goes back (the retried job's too: a copy the processor
   * drops), and the view and the queue end empty. */
  odd_jobs_page_replay_all (page);
  ODD_GUI_ASSERT_WITHIN (g_str_has_prefix (odd_jobs_page_get_last_message (page) ?: "", "Replayed "), 30);
  g_test_message ("%s", odd_jobs_page_get_last_message (page));
  g_assert_false (g_str_has_prefix (odd_jobs_page_get_last_message (page), "Replayed 0"));
  for (guint i = 0; i < N_DOOMED; i++)
    ODD_GUI_ASSERT_WITHIN (job_is (doomed_ids->pdata[i], "COMPLETED"), 60);
  ODD_GUI_ASSERT_WITHIN (dead_total (page) == 0, 30);
  ODD_GUI_ASSERT_WITHIN (queue_depth ("jobs.dead") == 0, 30);
  odd_gui_test_spin (400);
  odd_gui_test_save_screenshot (window, "jobs-dead-letters-empty-light");

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
      char *id = i < N_OK ? odd_uuid_new () : doomed_id_new ();

      g_assert_cmpuint (odd_it_submit (it, id, i < N_OK ? "jp-demo" : "jp-doomed",
                                       i < N_OK ? "{\"durationMs\": 10}" : "{\"failRate\": 0.5}"), ==, 202);
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
