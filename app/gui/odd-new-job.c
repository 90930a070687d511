/* odd-new-job.c: the New Job dialog (a job or a burst of them), its input checked as typed
 *
 * SPDX-License-Identifier: MIT
 */
#define G_LOG_DOMAIN "odd-new-job"

#include <glib/gi18n.h>

#include "odd-new-job.h"
#include "odd-schema.h"

/* simulation.json, loaded once. */
static OddSchemaRegistry *
simulation_schema (GError **error)
{
  static OddSchemaRegistry *registry;
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;
  g_autoptr(OddSchemaRegistry) loaded = NULL;

  if (registry != NULL)
    return registry;
  dir = odd_contracts_dir ();
  path = g_build_filename (dir, "schemas", "simulation.json", NULL);
  loaded = odd_schema_registry_new ();
  if (!odd_schema_registry_load_file (loaded, path, error))
    return NULL;
  registry = g_steal_pointer (&loaded);
  return registry;
}

JsonNode *
odd_new_job_build_payload (const char  *job_type,
                           const char  *payload_text,
                           guint        duration_ms,
                           double       fail_rate,
                           GError     **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(JsonNode) payload = NULL;
  g_autoptr(JsonNode) simulate = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GPtrArray) problems = NULL;
  g_autofree char *type = g_strstrip (g_strdup (job_type ? job_type : ""));
  g_autofree char *text = g_strstrip (g_strdup (payload_text ? payload_text : ""));
  OddSchemaRegistry *registry;
  JsonObject *object;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (type[0] == '\0')
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, _("Give the job a type, e.g. “demo”."));
      return NULL;
    }
  for (const char *c = type; *c; c++)
    if (g_ascii_iscntrl (*c))
      {
        g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, _("The type cannot hold control characters."));
        return NULL;
      }

  if (text[0] == '\0')
    payload = json_node_init_object (json_node_alloc (), json_object_new ());
  else
    {
      if (!json_parser_load_from_data (parser, text, -1, &local_error))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _("The payload is not JSON: %s"), local_error->message);
          return NULL;
        }
      if (!JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                               _("The payload must be a JSON object, e.g. {\"order\": 42}."));
          return NULL;
        }
      payload = json_node_copy (json_parser_get_root (parser));
    }
  object = json_node_get_object (payload);
  if (json_object_has_member (object, "simulate"))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           _("Set the simulation with the duration and failure rate below, not as “simulate” in the payload."));
      return NULL;
    }

  simulate = json_node_init_object (json_node_alloc (), json_object_new ());
  json_object_set_int_member (json_node_get_object (simulate), "durationMs", duration_ms);
  json_object_set_double_member (json_node_get_object (simulate), "failRate", fail_rate);
  registry = simulation_schema (&local_error);
  if (registry == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   _("The contract simulation.json cannot be loaded (%s): set CONTRACTS_PATH to the contracts directory."),
                   local_error->message);
      return NULL;
    }
  problems = odd_schema_registry_validate (registry, "simulation", simulate, &local_error);
  if (problems == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", local_error->message);
      return NULL;
    }
  if (problems->len > 0)
    {
      g_autofree char *why = odd_validation_errors_to_string (problems);

      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _("The simulation breaks the contract: %s"), why);
      return NULL;
    }
  json_object_set_member (object, "simulate", g_steal_pointer (&simulate));
  return g_steal_pointer (&payload);
}

/* ------------------------------------------------------------------------------------ */
/* The dialog */

typedef struct {
  OddClient          *client;
  OddNewJobSubmitted  on_submitted;
  gpointer            user_data;
  AdwMessageDialog   *dialog;
  AdwEntryRow        *type_row;
  GtkSpinButton      *duration;
  GtkSpinButton      *fail_rate;
  GtkSpinButton      *count;
  GtkTextView        *payload_view;
  GtkLabel           *error_label;
} NewJob;

static void
new_job_free (gpointer  data,
              GObject  *dialog)
{
  NewJob *self = data;

  g_clear_object (&self->client);
  g_free (self);
}

static char *
payload_text (NewJob *self)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->payload_view);
  GtkTextIter start, end;

  gtk_text_buffer_get_bounds (buffer, &start, &end);
  return gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
}

static JsonNode *
build (NewJob  *self,
       GError **error)
{
  g_autofree char *text = payload_text (self);

  return odd_new_job_build_payload (gtk_editable_get_text (GTK_EDITABLE (self->type_row)), text,
                                    (guint) gtk_spin_button_get_value_as_int (self->duration),
                                    gtk_spin_button_get_value (self->fail_rate), error);
}

static void
check (NewJob *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) payload = build (self, &error);

  gtk_label_set_label (self->error_label, error ? error->message : "");
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), error != NULL);
  adw_message_dialog_set_response_enabled (self->dialog, "submit", payload != NULL);
}

typedef struct {
  OddNewJobSubmitted  on_submitted;
  gpointer            user_data;
  char               *job_type;
  GtkWindow          *parent;
} Submission;

static void
on_submitted (GObject      *source,
              GAsyncResult *result,
              gpointer      data)
{
  Submission *submission = data;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) ids = odd_client_submit_jobs_finish (ODD_CLIENT (source), result, &error);

  if (ids != NULL)
    submission->on_submitted ((const char * const *) ids, submission->job_type, submission->user_data);
  else
    {
      AdwMessageDialog *failure = ADW_MESSAGE_DIALOG (adw_message_dialog_new (submission->parent, _("Jobs Not Submitted"),
                                                                               error->message));

      adw_message_dialog_add_response (failure, "close", _("_Close"));
      gtk_window_present (GTK_WINDOW (failure));
    }
  g_clear_weak_pointer (&submission->parent);
  g_free (submission->job_type);
  g_free (submission);
}

static void
on_response (AdwMessageDialog *dialog,
             const char       *response,
             NewJob           *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) payload = NULL;
  Submission *submission;

  if (g_strcmp0 (response, "submit") != 0 || (payload = build (self, &error)) == NULL)
    return;
  submission = g_new0 (Submission, 1);
  submission->on_submitted = self->on_submitted;
  submission->user_data = self->user_data;
  submission->job_type = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->type_row))));
  g_set_weak_pointer (&submission->parent, gtk_window_get_transient_for (GTK_WINDOW (dialog)));
  odd_client_submit_jobs_async (self->client, submission->job_type, payload,
                                (guint) gtk_spin_button_get_value_as_int (self->count), NULL, on_submitted, submission);
}

static GtkSpinButton *
add_spin_row (GtkListBox *list,
              const char *title,
              const char *subtitle,
              double      min,
              double      max,
              double      step,
              double      value,
              guint       digits)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *spin = gtk_spin_button_new_with_range (min, max, step);

  gtk_spin_button_set_digits (GTK_SPIN_BUTTON (spin), digits);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (spin), value);
  gtk_widget_set_valign (spin, GTK_ALIGN_CENTER);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), spin);
  adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), spin);
  gtk_list_box_append (list, row);
  return GTK_SPIN_BUTTON (spin);
}

void
odd_new_job_dialog_present (GtkWindow          *parent,
                            OddClient          *client,
                            OddNewJobSubmitted  callback,
                            gpointer            user_data)
{
  NewJob *self;
  GtkWidget *box, *list, *payload_label, *scroller;

  g_return_if_fail (parent == NULL || GTK_IS_WINDOW (parent));
  g_return_if_fail (ODD_IS_CLIENT (client));
  g_return_if_fail (callback != NULL);

  self = g_new0 (NewJob, 1);
  self->client = g_object_ref (client);
  self->on_submitted = callback;
  self->user_data = user_data;
  self->dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (parent, _("New Job"),
                                                             _("The gateway checks each job against the contract before it accepts it.")));
  adw_message_dialog_add_responses (self->dialog, "cancel", _("_Cancel"), "submit", _("_Submit"), NULL);
  adw_message_dialog_set_response_appearance (self->dialog, "submit", ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (self->dialog, "submit");
  adw_message_dialog_set_close_response (self->dialog, "cancel");

  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  list = gtk_list_box_new ();
  gtk_list_box_set_selection_mode (GTK_LIST_BOX (list), GTK_SELECTION_NONE);
  gtk_widget_add_css_class (list, "boxed-list");
  self->type_row = ADW_ENTRY_ROW (adw_entry_row_new ());
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->type_row), _("Type"));
  gtk_editable_set_text (GTK_EDITABLE (self->type_row), "demo");
  gtk_list_box_append (GTK_LIST_BOX (list), GTK_WIDGET (self->type_row));
  self->duration = add_spin_row (GTK_LIST_BOX (list), _("Duration"), _("Milliseconds each attempt works"),
                                 0, 600000, 100, 500, 0);
  self->fail_rate = add_spin_row (GTK_LIST_BOX (list), _("Failure Rate"), _("Share of attempts that fail, 0 to 1"),
                                  0, 1, 0.05, 0, 2);
  self->count = add_spin_row (GTK_LIST_BOX (list), _("How Many"), _("Jobs in this burst"),
                              1, ODD_NEW_JOB_MAX_COUNT, 1, 1, 0);
  gtk_box_append (GTK_BOX (box), list);

  payload_label = gtk_label_new (_("Payload (a JSON object)"));
  gtk_label_set_xalign (GTK_LABEL (payload_label), 0);
  gtk_widget_add_css_class (payload_label, "heading");
  gtk_box_append (GTK_BOX (box), payload_label);
  self->payload_view = GTK_TEXT_VIEW (gtk_text_view_new ());
  gtk_text_view_set_monospace (self->payload_view, TRUE);
  gtk_text_view_set_top_margin (self->payload_view, 8);
  gtk_text_view_set_bottom_margin (self->payload_view, 8);
  gtk_text_view_set_left_margin (self->payload_view, 8);
  gtk_text_view_set_right_margin (self->payload_view, 8);
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->payload_view), "{}", -1);
  scroller = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_min_content_height (GTK_SCROLLED_WINDOW (scroller), 96);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroller), GTK_WIDGET (self->payload_view));
  gtk_widget_add_css_class (scroller, "card");
  gtk_box_append (GTK_BOX (box), scroller);
  self->error_label = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_wrap (self->error_label, TRUE);
  gtk_label_set_xalign (self->error_label, 0);
  gtk_widget_add_css_class (GTK_WIDGET (self->error_label), "error");
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->error_label));
  adw_message_dialog_set_extra_child (self->dialog, box);

  g_signal_connect_swapped (self->type_row, "changed", G_CALLBACK (check), self);
  g_signal_connect_swapped (self->duration, "value-changed", G_CALLBACK (check), self);
  g_signal_connect_swapped (self->fail_rate, "value-changed", G_CALLBACK (check), self);
  g_signal_connect_swapped (gtk_text_view_get_buffer (self->payload_view), "changed", G_CALLBACK (check), self);
  g_signal_connect (self->dialog, "response", G_CALLBACK (on_response), self);
  g_object_weak_ref (G_OBJECT (self->dialog), new_job_free, self);
  check (self);
  gtk_window_present (GTK_WINDOW (self->dialog));
}
