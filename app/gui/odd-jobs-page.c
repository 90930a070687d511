/* odd-jobs-page.c: the jobs (search, filters, detail with timeline, retry) and dead letters
 *
 * SPDX-License-Identifier: MIT
 *
 * The list is OddJobList (GET /jobs, keyset cursor): filters reset it, and the next page is
 * asked for when the view is scrolled near its end. Selecting a job loads its detail (GET
 * /jobs/{id}: payload and events); the timeline shows each event with the time since the one
 * before. The Created column's header orders the list (the read model pages in either
 * order). Dead letters come from OddDeadLetterList, only those still waiting; the selected
 * ones are replayed by their keys, "Replay All" replays the oldest first until none is left.
 */
#define G_LOG_DOMAIN "odd-jobs-page"

#include <glib/gi18n.h>
#include <time.h>

#include "odd-dashboard-resources.h"
#include "odd-jobs-page.h"
#include "odd-new-job.h"

struct _OddJobsPage
{
  AdwBin              parent_instance;

  GtkSearchEntry     *search_entry;
  GtkDropDown        *status_dropdown;
  GtkStack           *view_stack;
  GtkScrolledWindow  *jobs_scroller;
  GtkColumnView      *jobs_view;
  GtkWidget          *detail_placeholder;
  GtkWidget          *detail_content;
  GtkLabel           *detail_title;
  GtkGrid            *fields_grid;
  GtkTextView        *payload_view;
  GtkListBox         *timeline_list;
  GtkLabel           *dead_total_label;
  GtkColumnView      *dead_view;
  GtkWidget          *dead_scroller;
  GtkWidget          *dead_empty;

  OddClient          *client;
  OddJobList         *jobs;
  OddDeadLetterList  *dead_letters;
  GtkSingleSelection *selection;
  GtkMultiSelection  *dead_selection;
  GtkColumnViewColumn *created_column;
  GCancellable       *cancellable;
  GCancellable       *detail_cancellable;
  GSimpleActionGroup *actions;
  OddJob             *detail;
  char               *last_message;
  guint               settle_source;   /* the refresh after a replay's letters are taken */
};

G_DEFINE_FINAL_TYPE (OddJobsPage, odd_jobs_page, ADW_TYPE_BIN)

enum {
  PROP_0,
  PROP_CLIENT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* The status filter's entries, in the drop-down's order. */
static const OddJobStatus status_filter[] = {
  ODD_JOB_STATUS_UNKNOWN, ODD_JOB_STATUS_PENDING, ODD_JOB_STATUS_VALIDATED,
  ODD_JOB_STATUS_EXECUTING, ODD_JOB_STATUS_COMPLETED, ODD_JOB_STATUS_FAILED,
};

static void
show_message (OddJobsPage *self,
              const char  *text)
{
  AdwToast *toast = adw_toast_new (text);

  g_free (self->last_message);
  self->last_message = g_strdup (text);
  /* What the last action did, now: not behind the toast of the one before. */
  adw_toast_set_priority (toast, ADW_TOAST_PRIORITY_HIGH);
  adw_toast_overlay_add_toast (ADW_TOAST_OVERLAY (adw_bin_get_child (ADW_BIN (self))), toast);
}

static void
enable_action (OddJobsPage *self,
               const char  *name,
               gboolean     enabled)
{
  g_simple_action_set_enabled (G_SIMPLE_ACTION (g_action_map_lookup_action (G_ACTION_MAP (self->actions), name)),
                               enabled);
}

static char *
format_time (GDateTime *time)
{
  g_autoptr(GDateTime) local = NULL;

  if (time == NULL)
    return g_strdup ("—");
  local = g_date_time_to_local (time);
  return g_date_time_format (local, "%Y-%m-%d %H:%M:%S");
}

/* ------------------------------------------------------------------------------------ */
/* Loading */

static void
on_loaded (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (!odd_job_list_load_more_finish (ODD_JOB_LIST (source), result, &error) &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    show_message (user_data, error->message);
}

/* An event's time to the millisecond: attempts are often closer than a second. */
static char *
format_event_time (GDateTime *time)
{
  g_autoptr(GDateTime) local = NULL;
  g_autofree char *seconds = NULL;

  if (time == NULL)
    return g_strdup ("—");
  local = g_date_time_to_local (time);
  seconds = g_date_time_format (local, "%H:%M:%S");
  return g_strdup_printf ("%s.%03d", seconds, g_date_time_get_microsecond (local) / 1000);
}

static void
load_more_if_near_end (OddJobsPage *self)
{
  GtkAdjustment *adjustment = gtk_scrolled_window_get_vadjustment (self->jobs_scroller);
  double left = gtk_adjustment_get_upper (adjustment) - gtk_adjustment_get_value (adjustment) -
                gtk_adjustment_get_page_size (adjustment);

  if (self->jobs == NULL || !gtk_widget_get_mapped (GTK_WIDGET (self)) ||
      !odd_job_list_get_has_more (self->jobs) || odd_job_list_get_loading (self->jobs))
    return;
  /* Within a screen of the end (or the list does not fill the view yet). */
  if (left <= gtk_adjustment_get_page_size (adjustment))
    odd_job_list_load_more_async (self->jobs, self->cancellable, on_loaded, self);
}

static void
on_dead_refreshed (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  OddJobsPage *self;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  if (!odd_dead_letter_list_refresh_finish (ODD_DEAD_LETTER_LIST (source), result, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        show_message (user_data, error->message);
      return;
    }
  self = user_data;
  /* Counts as %u (there are never billions of stored letters): xgettext cannot read through
   * G_GINT64_FORMAT. */
  text = g_strdup_printf (ngettext ("%u dead letter waiting", "%u dead letters waiting",
                                    (gulong) odd_dead_letter_list_get_total (self->dead_letters)),
                          (guint) odd_dead_letter_list_get_total (self->dead_letters));
  gtk_label_set_label (self->dead_total_label, text);
  enable_action (self, "replay-all", odd_dead_letter_list_get_total (self->dead_letters) > 0);
  gtk_widget_set_visible (self->dead_scroller, odd_dead_letter_list_get_total (self->dead_letters) > 0);
  gtk_widget_set_visible (self->dead_empty, odd_dead_letter_list_get_total (self->dead_letters) == 0);
}

static void
on_dead_selection_changed (OddJobsPage *self)
{
  g_autoptr(GtkBitset) selected = gtk_selection_model_get_selection (GTK_SELECTION_MODEL (self->dead_selection));

  enable_action (self, "replay-selected", !gtk_bitset_is_empty (selected));
}

static void
refresh_dead_letters (OddJobsPage *self)
{
  if (self->dead_letters != NULL)
    odd_dead_letter_list_refresh_async (self->dead_letters, self->cancellable, on_dead_refreshed, self);
}

/* ------------------------------------------------------------------------------------ */
/* The detail pane */

static void
add_field (OddJobsPage *self,
           int          row,
           const char  *name,
           const char  *value)
{
  GtkWidget *key = gtk_label_new (name);
  GtkWidget *text = gtk_label_new (value != NULL && value[0] != '\0' ? value : "—");

  gtk_label_set_xalign (GTK_LABEL (key), 1);
  gtk_widget_add_css_class (key, "dim-label");
  gtk_label_set_xalign (GTK_LABEL (text), 0);
  gtk_label_set_selectable (GTK_LABEL (text), TRUE);
  gtk_label_set_wrap (GTK_LABEL (text), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (text), PANGO_WRAP_WORD_CHAR);
  gtk_widget_set_hexpand (text, TRUE);
  gtk_grid_attach (self->fields_grid, key, 0, row, 1, 1);
  gtk_grid_attach (self->fields_grid, text, 1, row, 1, 1);
}

static char *
format_duration (gint64 us)
{
  if (us < 0)
    return g_strdup ("");
  if (us < G_USEC_PER_SEC)
    return g_strdup_printf ("+%.0f ms", us / 1000.0);
  if (us < 60 * G_USEC_PER_SEC)
    return g_strdup_printf ("+%.2f s", us / (double) G_USEC_PER_SEC);
  return g_strdup_printf ("+%" G_GINT64_FORMAT " min %02" G_GINT64_FORMAT " s",
                          us / (60 * G_USEC_PER_SEC), us / G_USEC_PER_SEC % 60);
}

static void
show_detail (OddJobsPage *self,
             OddJob      *job)
{
  GtkWidget *child;
  GListModel *events;
  GDateTime *previous = NULL;
  g_autofree char *attempts = NULL, *generation = NULL, *created = NULL, *started = NULL, *finished = NULL;
  gboolean failed;
  int row = 0;

  g_set_object (&self->detail, job);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->fields_grid))) != NULL)
    gtk_grid_remove (self->fields_grid, child);
  /* gtk_list_box_remove_all() is GTK 4.12. */
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->timeline_list))) != NULL)
    gtk_list_box_remove (self->timeline_list, child);
  gtk_widget_set_visible (self->detail_placeholder, job == NULL);
  gtk_widget_set_visible (self->detail_content, job != NULL);
  failed = job != NULL && odd_job_get_status (job) == ODD_JOB_STATUS_FAILED;
  enable_action (self, "retry", failed);
  if (job == NULL)
    return;

  gtk_label_set_label (self->detail_title, odd_job_get_id (job));
  attempts = g_strdup_printf ("%" G_GINT64_FORMAT, odd_job_get_attempts (job));
  generation = g_strdup_printf ("%" G_GINT64_FORMAT, odd_job_get_generation (job));
  created = format_time (odd_job_get_created_at (job));
  started = format_time (odd_job_get_started_at (job));
  finished = format_time (odd_job_get_finished_at (job));
  add_field (self, row++, _("Type"), odd_job_get_job_type (job));
  add_field (self, row++, _("Status"), odd_job_status_to_string (odd_job_get_status (job)));
  add_field (self, row++, _("Attempts"), attempts);
  add_field (self, row++, _("Generation"), generation);
  add_field (self, row++, _("Created"), created);
  add_field (self, row++, _("Started"), started);
  add_field (self, row++, _("Finished"), finished);
  add_field (self, row++, _("Last error"), odd_job_get_last_error (job));

  if (odd_job_get_payload (job) != NULL)
    {
      g_autoptr(JsonGenerator) generator = json_generator_new ();
      g_autofree char *pretty = NULL;

      json_generator_set_pretty (generator, TRUE);
      json_generator_set_indent (generator, 2);
      json_generator_set_root (generator, odd_job_get_payload (job));
      pretty = json_generator_to_data (generator, NULL);
      gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->payload_view), pretty, -1);
    }
  else
    gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->payload_view), "", -1);

  events = odd_job_get_events (job);
  for (guint i = 0; events != NULL && i < g_list_model_get_n_items (events); i++)
    {
      g_autoptr(OddJobEvent) event = g_list_model_get_item (events, i);
      GDateTime *at = odd_job_event_get_occurred_at (event);
      g_autofree char *time = format_event_time (at);
      g_autofree char *since = previous && at ? format_duration (g_date_time_difference (at, previous)) : g_strdup ("");
      g_autofree char *subtitle = NULL;
      GtkWidget *event_row = adw_action_row_new ();
      GtkWidget *since_label = gtk_label_new (since);

      if (odd_job_event_get_error (event) != NULL)
        subtitle = g_strdup_printf (_("%s · attempt %u · %s"), time,
                                    (guint) odd_job_event_get_attempt (event), odd_job_event_get_error (event));
      else if (odd_job_event_get_attempt (event) > 0)
        subtitle = g_strdup_printf (_("%s · attempt %u"), time, (guint) odd_job_event_get_attempt (event));
      else
        subtitle = g_strdup (time);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (event_row), odd_job_event_get_event_type (event));
      adw_action_row_set_subtitle (ADW_ACTION_ROW (event_row), subtitle);
      gtk_widget_add_css_class (since_label, "numeric");
      gtk_widget_add_css_class (since_label, "dim-label");
      adw_action_row_add_suffix (ADW_ACTION_ROW (event_row), since_label);
      gtk_list_box_append (self->timeline_list, event_row);
      if (at != NULL)
        previous = at;
    }
}

static void
on_detail (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(OddJob) job = odd_client_get_job_finish (ODD_CLIENT (source), result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (job == NULL)
    {
      show_message (user_data, error->message);
      return;
    }
  show_detail (user_data, job);
}

static void
load_detail (OddJobsPage *self,
             const char  *job_id)
{
  /* job_id may belong to the detail this drops. */
  g_autofree char *id = g_strdup (job_id);

  g_cancellable_cancel (self->detail_cancellable);
  g_clear_object (&self->detail_cancellable);
  self->detail_cancellable = g_cancellable_new ();
  g_clear_object (&self->detail);
  if (id != NULL && self->client != NULL)
    odd_client_get_job_async (self->client, id, self->detail_cancellable, on_detail, self);
}

static void
on_selected (OddJobsPage *self)
{
  OddJob *job = gtk_single_selection_get_selected_item (self->selection);

  if (job == NULL)
    {
      load_detail (self, NULL);
      show_detail (self, NULL);
      return;
    }
  load_detail (self, odd_job_get_id (job));
}

/* ------------------------------------------------------------------------------------ */
/* Actions */

static void
on_retried (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(OddJobsPage) self = user_data;
  g_autoptr(GError) error = NULL;
  gint64 generation = 0;
  g_autofree char *text = NULL;

  if (!odd_client_retry_job_finish (ODD_CLIENT (source), result, &generation, &error))
    {
      show_message (self, error->message);
      return;
    }
  text = g_strdup_printf (_("The job runs again as generation %u"), (guint) generation);
  show_message (self, text);
  if (self->detail != NULL)
    load_detail (self, odd_job_get_id (self->detail));
}

void
odd_jobs_page_retry (OddJobsPage *self)
{
  g_return_if_fail (ODD_IS_JOBS_PAGE (self));

  if (self->detail == NULL || self->client == NULL || odd_job_get_status (self->detail) != ODD_JOB_STATUS_FAILED)
    return;
  odd_client_retry_job_async (self->client, odd_job_get_id (self->detail), NULL, on_retried, g_object_ref (self));
}

/* The processor takes a replayed letter's job within moments, and only then is the letter
 * no longer pending: the list is asked again once that has had time. */
#define SETTLE_MS 2000

static void
on_settled (gpointer user_data)
{
  OddJobsPage *self = user_data;

  self->settle_source = 0;
  refresh_dead_letters (self);
}

static void
refresh_after_replay (OddJobsPage *self)
{
  refresh_dead_letters (self);
  if (self->settle_source == 0)
    self->settle_source = g_timeout_add_once (SETTLE_MS, on_settled, self);
}

static void
on_replayed (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(OddJobsPage) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(OddReplayResult) replay = odd_client_replay_dead_letters_finish (ODD_CLIENT (source), result, &error);
  g_autofree char *text = NULL;

  if (replay == NULL)
    {
      /* A replay by keys is all or none: one of them went back meanwhile (a stale list). */
      if (g_error_matches (error, ODD_CLIENT_ERROR, ODD_CLIENT_ERROR_NOT_FOUND))
        show_message (self, _("Some of these dead letters were replayed already, so none was sent: select again"));
      else
        show_message (self, error->message);
      refresh_after_replay (self);
      return;
    }
  if (replay->kept > 0)
    text = g_strdup_printf (_("Replayed %u, kept %u: %s"), replay->replayed, replay->kept,
                            (const char *) g_ptr_array_index (replay->reasons, 0));
  else
    text = g_strdup_printf (ngettext ("Replayed %u dead letter", "Replayed %u dead letters", replay->replayed),
                            replay->replayed);
  show_message (self, text);
  refresh_after_replay (self);
}

void
odd_jobs_page_replay_all (OddJobsPage *self)
{
  g_return_if_fail (ODD_IS_JOBS_PAGE (self));

  if (self->client != NULL)
    odd_client_replay_dead_letters_async (self->client, 0, NULL, on_replayed, g_object_ref (self));
}

void
odd_jobs_page_replay_selected (OddJobsPage *self)
{
  g_autoptr(GtkBitset) selected = NULL;
  g_autoptr(GStrvBuilder) keys = NULL;
  g_auto(GStrv) key_list = NULL;
  GtkBitsetIter iter;
  guint position;

  g_return_if_fail (ODD_IS_JOBS_PAGE (self));

  if (self->client == NULL || self->dead_selection == NULL)
    return;
  selected = gtk_selection_model_get_selection (GTK_SELECTION_MODEL (self->dead_selection));
  keys = g_strv_builder_new ();
  for (gboolean more = gtk_bitset_iter_init_first (&iter, selected, &position); more;
       more = gtk_bitset_iter_next (&iter, &position))
    {
      g_autoptr(OddDeadLetter) letter = g_list_model_get_item (G_LIST_MODEL (self->dead_letters), position);
      const char *key = letter != NULL ? odd_dead_letter_get_message_key (letter) : NULL;

      if (key == NULL)
        {
          show_message (self, _("The read model does not name dead letters by key: update it, or use Replay All"));
          return;
        }
      g_strv_builder_add (keys, key);
    }
  key_list = g_strv_builder_end (keys);
  if (key_list[0] == NULL)
    return;
  odd_client_replay_dead_letters_by_key_async (self->client, (const char * const *) key_list, NULL,
                                               on_replayed, g_object_ref (self));
}

static void
retry_activated (GSimpleAction *action,
                 GVariant      *parameter,
                 gpointer       user_data)
{
  odd_jobs_page_retry (user_data);
}

static void
replay_selected_activated (GSimpleAction *action,
                           GVariant      *parameter,
                           gpointer       user_data)
{
  odd_jobs_page_replay_selected (user_data);
}

static void
replay_all_activated (GSimpleAction *action,
                      GVariant      *parameter,
                      gpointer       user_data)
{
  odd_jobs_page_replay_all (user_data);
}

/* The toast after a burst links to its jobs: the one job by its id, a burst by its type. */
static void
on_jobs_submitted (const char * const *ids,
                   const char         *job_type,
                   gpointer            user_data)
{
  g_autoptr(OddJobsPage) self = g_object_ref (user_data);
  guint n = g_strv_length ((char **) ids);
  g_autofree char *text = g_strdup_printf (ngettext ("Submitted %u job", "Submitted %u jobs", n), n);
  AdwToast *toast = adw_toast_new (text);

  g_free (self->last_message);
  self->last_message = g_strdup (text);
  adw_toast_set_button_label (toast, _("_Show"));
  adw_toast_set_action_name (toast, "jobs.show");
  adw_toast_set_action_target_value (toast, g_variant_new_string (n == 1 ? ids[0] : job_type));
  adw_toast_overlay_add_toast (ADW_TOAST_OVERLAY (adw_bin_get_child (ADW_BIN (self))), toast);
}

static void
new_job_activated (GSimpleAction *action,
                   GVariant      *parameter,
                   gpointer       user_data)
{
  OddJobsPage *self = user_data;
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  if (self->client != NULL)
    odd_new_job_dialog_present (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL, self->client,
                                on_jobs_submitted, self);
}

static void
show_activated (GSimpleAction *action,
                GVariant      *parameter,
                gpointer       user_data)
{
  OddJobsPage *self = user_data;

  odd_jobs_page_show_view (self, "jobs");
  odd_jobs_page_filter_status (self, ODD_JOB_STATUS_UNKNOWN);
  odd_jobs_page_search (self, g_variant_get_string (parameter, NULL));
}

static void
refresh_activated (GSimpleAction *action,
                   GVariant      *parameter,
                   gpointer       user_data)
{
  OddJobsPage *self = user_data;

  odd_job_list_reset (self->jobs);
  load_more_if_near_end (self);
  refresh_dead_letters (self);
}

/* ------------------------------------------------------------------------------------ */
/* Columns */

/* A cell's text: a string the item keeps, or one written into @buffer. Nothing is allocated
 * for a cell while the list scrolls. */
typedef const char *(*CellText) (gpointer item,
                                 char    *buffer,
                                 gsize    size);

/* GtkInscription, not GtkLabel: its size comes from a number of characters, not from its
 * text, so binding a row to another job only redraws it; a label's new text re-measured it,
 * its row and every column's width, and shaped the text twice (measure and snapshot). */
static void
setup_cell (GtkSignalListItemFactory *factory,
            GtkListItem              *item,
            gpointer                  data)
{
  GtkWidget *cell = gtk_inscription_new (NULL);
  guint chars = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (factory), "odd-chars"));

  gtk_inscription_set_nat_chars (GTK_INSCRIPTION (cell), chars);
  gtk_inscription_set_text_overflow (GTK_INSCRIPTION (cell),
                                     g_object_get_data (G_OBJECT (factory), "odd-middle") != NULL
                                       ? GTK_INSCRIPTION_OVERFLOW_ELLIPSIZE_MIDDLE
                                       : GTK_INSCRIPTION_OVERFLOW_ELLIPSIZE_END);
  gtk_list_item_set_child (item, cell);
}

static void
bind_cell (GtkSignalListItemFactory *factory,
           GtkListItem              *item,
           CellText                  text_for)
{
  char buffer[64];

  gtk_inscription_set_text (GTK_INSCRIPTION (gtk_list_item_get_child (item)),
                            text_for (gtk_list_item_get_item (item), buffer, sizeof buffer));
}

/* @chars: the column's natural width in characters (it stays the same whatever the rows
 * hold; the user can still resize it). */
static GtkColumnViewColumn *
add_column (GtkColumnView *view,
            const char    *title,
            CellText       text_for,
            guint          chars,
            gboolean       expand,
            gboolean       middle)
{
  GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();
  GtkColumnViewColumn *column;

  g_object_set_data (G_OBJECT (factory), "odd-chars", GUINT_TO_POINTER (chars));
  g_object_set_data (G_OBJECT (factory), "odd-middle", GINT_TO_POINTER (middle));
  g_signal_connect (factory, "setup", G_CALLBACK (setup_cell), NULL);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_cell), text_for);
  column = gtk_column_view_column_new (title, factory);
  gtk_column_view_column_set_expand (column, expand);
  gtk_column_view_column_set_resizable (column, TRUE);
  gtk_column_view_append_column (view, column);
  g_object_unref (column);
  return column;
}

/* Local time to the second, into @buffer: no GDateTime made and dropped for each cell. */
static const char *
format_usec (gint64  usec,
             char   *buffer,
             gsize   size)
{
  time_t seconds = (time_t) (usec / G_USEC_PER_SEC);
  struct tm local;

  if (usec == 0 || localtime_r (&seconds, &local) == NULL ||
      strftime (buffer, size, "%Y-%m-%d %H:%M:%S", &local) == 0)
    return "—";
  return buffer;
}

static const char *
job_id_text (gpointer item, char *buffer, gsize size)
{
  return odd_job_get_id (item);
}

static const char *
job_type_text (gpointer item, char *buffer, gsize size)
{
  return odd_job_get_job_type (item);
}

static const char *
job_status_text (gpointer item, char *buffer, gsize size)
{
  return odd_job_status_to_string (odd_job_get_status (item));
}

static const char *
job_attempts_text (gpointer item, char *buffer, gsize size)
{
  g_snprintf (buffer, size, "%" G_GINT64_FORMAT, odd_job_get_attempts (item));
  return buffer;
}

/* Through microseconds: a GDateTime kept in each of many jobs would cost 50 bytes a job. */
static const char *
job_created_text (gpointer item, char *buffer, gsize size)
{
  return format_usec (odd_job_get_created_usec (item), buffer, size);
}

static const char *
dead_at_text (gpointer item, char *buffer, gsize size)
{
  GDateTime *dead_at = odd_dead_letter_get_dead_at (item);

  return format_usec (dead_at != NULL ? g_date_time_to_unix (dead_at) * G_USEC_PER_SEC : 0, buffer, size);
}

static const char *
dead_queue_text (gpointer item, char *buffer, gsize size)
{
  return odd_dead_letter_get_queue (item);
}

static const char *
dead_job_text (gpointer item, char *buffer, gsize size)
{
  return odd_dead_letter_get_job_id (item);
}

static const char *
dead_reason_text (gpointer item, char *buffer, gsize size)
{
  return odd_dead_letter_get_reason (item);
}

static const char *
dead_error_text (gpointer item, char *buffer, gsize size)
{
  return odd_dead_letter_get_error (item);
}

/* ------------------------------------------------------------------------------------ */
/* Filters */

static void
on_search_changed (OddJobsPage *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->search_entry));

  if (self->jobs == NULL)
    return;
  odd_job_list_set_text (self->jobs, text[0] != '\0' ? text : NULL);
  load_more_if_near_end (self);
}

static void
on_status_changed (OddJobsPage *self)
{
  guint selected = gtk_drop_down_get_selected (self->status_dropdown);

  if (self->jobs == NULL || selected >= G_N_ELEMENTS (status_filter))
    return;
  odd_job_list_set_status (self->jobs, status_filter[selected]);
  load_more_if_near_end (self);
}

/* ------------------------------------------------------------------------------------ */
/* Sorting by time: the read model orders, the view's header only says which way */

/* Never sorts anything itself (no GtkSortListModel uses it): it only lets the header be
 * clicked, and tells which way it points, below. */
static int
time_order_probe (gconstpointer a,
                  gconstpointer b,
                  gpointer      data)
{
  return GTK_ORDERING_SMALLER;
}

/* gtk_column_view_sorter_get_primary_sort_order() is GTK 4.10: the view's sorter inverts
 * the column's answer when the header points down. Two distinct items: one compared with
 * itself is always equal. */
static gboolean
time_ascending (OddJobsPage *self)
{
  return gtk_sorter_compare (gtk_column_view_get_sorter (self->jobs_view), self, self->jobs_view) == GTK_ORDERING_SMALLER;
}

static void
on_time_order_changed (OddJobsPage *self)
{
  if (self->jobs == NULL)
    return;
  odd_job_list_set_ascending (self->jobs, time_ascending (self));
  load_more_if_near_end (self);
}

static void
setup_time_sorting (OddJobsPage *self)
{
  g_autoptr(GtkSorter) sorter = GTK_SORTER (gtk_custom_sorter_new (time_order_probe, NULL, NULL));

  gtk_column_view_column_set_sorter (self->created_column, sorter);
  gtk_column_view_sort_by_column (self->jobs_view, self->created_column, GTK_SORT_DESCENDING);
  g_signal_connect_object (gtk_column_view_get_sorter (self->jobs_view), "changed",
                           G_CALLBACK (on_time_order_changed), self, G_CONNECT_SWAPPED);
}

void
odd_jobs_page_sort_by_time (OddJobsPage *self,
                            GtkSortType  order)
{
  g_return_if_fail (ODD_IS_JOBS_PAGE (self));
  gtk_column_view_sort_by_column (self->jobs_view, self->created_column, order);
}

/* ------------------------------------------------------------------------------------ */
/* GObject */

static void
odd_jobs_page_map (GtkWidget *widget)
{
  OddJobsPage *self = ODD_JOBS_PAGE (widget);

  GTK_WIDGET_CLASS (odd_jobs_page_parent_class)->map (widget);
  /* Fresh each time it is shown: the newest jobs first. */
  if (self->jobs != NULL)
    odd_job_list_reset (self->jobs);
  load_more_if_near_end (self);
  refresh_dead_letters (self);
}

static void
odd_jobs_page_unmap (GtkWidget *widget)
{
  OddJobsPage *self = ODD_JOBS_PAGE (widget);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  GTK_WIDGET_CLASS (odd_jobs_page_parent_class)->unmap (widget);
}

static void
odd_jobs_page_dispose (GObject *object)
{
  OddJobsPage *self = ODD_JOBS_PAGE (object);

  g_cancellable_cancel (self->cancellable);
  g_cancellable_cancel (self->detail_cancellable);
  g_clear_handle_id (&self->settle_source, g_source_remove);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->detail_cancellable);
  gtk_widget_dispose_template (GTK_WIDGET (self), ODD_TYPE_JOBS_PAGE);
  g_clear_object (&self->selection);
  g_clear_object (&self->dead_selection);
  g_clear_object (&self->jobs);
  g_clear_object (&self->dead_letters);
  g_clear_object (&self->detail);
  g_clear_object (&self->client);
  g_clear_object (&self->actions);
  g_clear_pointer (&self->last_message, g_free);
  G_OBJECT_CLASS (odd_jobs_page_parent_class)->dispose (object);
}

static void
odd_jobs_page_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  switch (prop_id)
    {
    case PROP_CLIENT:
      g_value_set_object (value, ODD_JOBS_PAGE (object)->client);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
odd_jobs_page_set_property (GObject      *object,
                            guint         prop_id,
                            const GValue *value,
                            GParamSpec   *pspec)
{
  switch (prop_id)
    {
    case PROP_CLIENT:
      odd_jobs_page_set_client (ODD_JOBS_PAGE (object), g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
odd_jobs_page_class_init (OddJobsPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = odd_jobs_page_dispose;
  object_class->get_property = odd_jobs_page_get_property;
  object_class->set_property = odd_jobs_page_set_property;
  widget_class->map = odd_jobs_page_map;
  widget_class->unmap = odd_jobs_page_unmap;

  properties[PROP_CLIENT] =
    g_param_spec_object ("client", NULL, NULL, ODD_TYPE_CLIENT,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  if (!g_resources_get_info (ODD_RESOURCE_PREFIX "/odd-jobs-page.ui", G_RESOURCE_LOOKUP_FLAGS_NONE,
                             NULL, NULL, NULL))
    odd_dashboard_register_resource ();
  gtk_widget_class_set_template_from_resource (widget_class, ODD_RESOURCE_PREFIX "/odd-jobs-page.ui");
  gtk_widget_class_bind_template_child (widget_class, OddJobsPage, search_entry);
  gtk_widget_class_bind_template_child (widget_class, OddJobsPage, status_dropdown);
  gtk_widget_class_bind_template_child (widget_class, OddJobsPage, view_stack);
  gtk_widget_class_bind_template_child (widget_class, OddJobsPage, jobs_scroller);
  gtk_widget_class_bind_template_child (widget_class, OddJobsPage, jobs_view);
  gtk_widget_class_bind_template_child (widget_class, OddJobsPage, detail_placeholder);
  gtk_widget_class_bind_template_child (widget_class, OddJobsPage, detail_content);
  gtk_widget_class_bind_template_child (widget_class, OddJobsPage, detail_title);
  gtk_widget_class_bind_template_child (widget_class, OddJobsPage, fields_grid);
  gtk_widget_class_bind_template_child (widget_class, OddJobsPage, payload_view);
  gtk_widget_class_bind_template_child (widget_class, OddJobsPage, timeline_list);
  gtk_widget_class_bind_template_child (widget_class, OddJobsPage, dead_total_label);
  gtk_widget_class_bind_template_child (widget_class, OddJobsPage, dead_view);
  gtk_widget_class_bind_template_child (widget_class, OddJobsPage, dead_scroller);
  gtk_widget_class_bind_template_child (widget_class, OddJobsPage, dead_empty);
  gtk_widget_class_bind_template_callback (widget_class, on_search_changed);
  gtk_widget_class_bind_template_callback (widget_class, on_status_changed);
}

static void
odd_jobs_page_init (OddJobsPage *self)
{
  static const GActionEntry entries[] = {
    { .name = "retry", .activate = retry_activated },
    { .name = "replay-selected", .activate = replay_selected_activated },
    { .name = "replay-all", .activate = replay_all_activated },
    { .name = "refresh", .activate = refresh_activated },
    { .name = "new-job", .activate = new_job_activated },
    { .name = "show", .parameter_type = "s", .activate = show_activated },
  };

  gtk_widget_init_template (GTK_WIDGET (self));
  self->cancellable = g_cancellable_new ();
  self->detail_cancellable = g_cancellable_new ();
  self->actions = g_simple_action_group_new ();
  g_action_map_add_action_entries (G_ACTION_MAP (self->actions), entries, G_N_ELEMENTS (entries), self);
  gtk_widget_insert_action_group (GTK_WIDGET (self), "jobs", G_ACTION_GROUP (self->actions));
  enable_action (self, "retry", FALSE);
  enable_action (self, "replay-selected", FALSE);
  enable_action (self, "replay-all", FALSE);

  add_column (self->jobs_view, _("Job"), job_id_text, 36, TRUE, TRUE);
  add_column (self->jobs_view, _("Type"), job_type_text, 16, FALSE, FALSE);
  add_column (self->jobs_view, _("Status"), job_status_text, 10, FALSE, FALSE);
  add_column (self->jobs_view, _("Attempts"), job_attempts_text, 3, FALSE, FALSE);
  self->created_column = add_column (self->jobs_view, _("Created"), job_created_text, 18, FALSE, FALSE);
  setup_time_sorting (self);
  add_column (self->dead_view, _("Died"), dead_at_text, 18, FALSE, FALSE);
  add_column (self->dead_view, _("Queue"), dead_queue_text, 9, FALSE, FALSE);
  add_column (self->dead_view, _("Job"), dead_job_text, 33, TRUE, TRUE);
  add_column (self->dead_view, _("Reason"), dead_reason_text, 17, FALSE, FALSE);
  add_column (self->dead_view, _("Error"), dead_error_text, 30, TRUE, FALSE);

  g_signal_connect_object (gtk_scrolled_window_get_vadjustment (self->jobs_scroller), "value-changed",
                           G_CALLBACK (load_more_if_near_end), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (gtk_scrolled_window_get_vadjustment (self->jobs_scroller), "changed",
                           G_CALLBACK (load_more_if_near_end), self, G_CONNECT_SWAPPED);
  show_detail (self, NULL);
}

/* ------------------------------------------------------------------------------------ */
/* API */

GtkWidget *
odd_jobs_page_new (OddClient *client)
{
  return g_object_new (ODD_TYPE_JOBS_PAGE, "client", client, NULL);
}

void
odd_jobs_page_set_client (OddJobsPage *self,
                          OddClient   *client)
{
  g_return_if_fail (ODD_IS_JOBS_PAGE (self));
  g_return_if_fail (client == NULL || ODD_IS_CLIENT (client));

  if (!g_set_object (&self->client, client))
    return;
  g_clear_object (&self->jobs);
  g_clear_object (&self->dead_letters);
  g_clear_object (&self->selection);
  g_clear_object (&self->dead_selection);
  show_detail (self, NULL);
  if (client != NULL)
    {
      self->jobs = odd_job_list_new (client);
      /* A page that arrived may still leave the view short of its end. */
      g_signal_connect_object (self->jobs, "notify::loading", G_CALLBACK (load_more_if_near_end), self,
                               G_CONNECT_SWAPPED);
      odd_job_list_set_ascending (self->jobs, time_ascending (self));
      self->dead_letters = odd_dead_letter_list_new (client);
      /* Replayed and retried ones leave the view: it shows what still needs a hand. */
      odd_dead_letter_list_set_pending (self->dead_letters, TRUE);
      self->selection = gtk_single_selection_new (g_object_ref (G_LIST_MODEL (self->jobs)));
      gtk_single_selection_set_autoselect (self->selection, FALSE);
      gtk_single_selection_set_can_unselect (self->selection, TRUE);
      g_signal_connect_object (self->selection, "notify::selected-item", G_CALLBACK (on_selected), self,
                               G_CONNECT_SWAPPED);
      self->dead_selection = gtk_multi_selection_new (g_object_ref (G_LIST_MODEL (self->dead_letters)));
      g_signal_connect_object (self->dead_selection, "selection-changed", G_CALLBACK (on_dead_selection_changed),
                               self, G_CONNECT_SWAPPED);
      /* A refresh replaces the items, and the selection with them. */
      g_signal_connect_object (self->dead_selection, "items-changed", G_CALLBACK (on_dead_selection_changed),
                               self, G_CONNECT_SWAPPED);
      on_status_changed (self);
      on_search_changed (self);
    }
  gtk_column_view_set_model (self->jobs_view, GTK_SELECTION_MODEL (self->selection));
  gtk_column_view_set_model (self->dead_view, GTK_SELECTION_MODEL (self->dead_selection));
  enable_action (self, "replay-selected", FALSE);
  if (gtk_widget_get_mapped (GTK_WIDGET (self)))
    {
      load_more_if_near_end (self);
      refresh_dead_letters (self);
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CLIENT]);
}

OddJobList *
odd_jobs_page_get_jobs (OddJobsPage *self)
{
  g_return_val_if_fail (ODD_IS_JOBS_PAGE (self), NULL);
  return self->jobs;
}

OddDeadLetterList *
odd_jobs_page_get_dead_letters (OddJobsPage *self)
{
  g_return_val_if_fail (ODD_IS_JOBS_PAGE (self), NULL);
  return self->dead_letters;
}

void
odd_jobs_page_search (OddJobsPage *self,
                      const char  *text)
{
  g_return_if_fail (ODD_IS_JOBS_PAGE (self));
  gtk_editable_set_text (GTK_EDITABLE (self->search_entry), text ? text : "");
  /* Now, not after the entry's typing delay. */
  on_search_changed (self);
}

void
odd_jobs_page_filter_status (OddJobsPage  *self,
                             OddJobStatus  status)
{
  g_return_if_fail (ODD_IS_JOBS_PAGE (self));
  for (guint i = 0; i < G_N_ELEMENTS (status_filter); i++)
    if (status_filter[i] == status)
      gtk_drop_down_set_selected (self->status_dropdown, i);
}

void
odd_jobs_page_select (OddJobsPage *self,
                      guint        position)
{
  g_return_if_fail (ODD_IS_JOBS_PAGE (self));
  if (self->selection != NULL)
    gtk_single_selection_set_selected (self->selection, position);
}

void
odd_jobs_page_show_view (OddJobsPage *self,
                         const char  *name)
{
  g_return_if_fail (ODD_IS_JOBS_PAGE (self));
  g_return_if_fail (name != NULL);

  gtk_stack_set_visible_child_name (self->view_stack, name);
}

OddJob *
odd_jobs_page_get_detail (OddJobsPage *self)
{
  g_return_val_if_fail (ODD_IS_JOBS_PAGE (self), NULL);
  return self->detail;
}

const char *
odd_jobs_page_get_last_message (OddJobsPage *self)
{
  g_return_val_if_fail (ODD_IS_JOBS_PAGE (self), NULL);
  return self->last_message;
}

GtkSelectionModel *
odd_jobs_page_get_dead_selection (OddJobsPage *self)
{
  g_return_val_if_fail (ODD_IS_JOBS_PAGE (self), NULL);
  return GTK_SELECTION_MODEL (self->dead_selection);
}
