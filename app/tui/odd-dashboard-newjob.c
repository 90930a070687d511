#define G_LOG_DOMAIN "odd-dashboard-newjob"

#define _XOPEN_SOURCE_EXTENDED 1

#include <string.h>
#include <curses.h>
#include <json-glib/json-glib.h>

#include "odd-dashboard.h"

#define MAX_TYPE_CHARS 50
#define MAX_DURATION_MS 600000

static const char * const labels[ODD_FIELD_LAST] = {
  "Job type", "Duration ms", "Fail rate",
};
static const char * const hints[ODD_FIELD_LAST] = {
  "letters, digits, _ or -", "optional, 0..600000", "optional, 0..1",
};

void
odd_dash_new_job_clear (OddDash *dash)
{
  for (guint i = 0; i < ODD_FIELD_LAST; i++)
    if (dash->new_job.fields[i] != NULL)
      g_string_truncate (dash->new_job.fields[i], 0);
  dash->new_job.focus = ODD_FIELD_TYPE;
  dash->new_job.state = ODD_FORM_EDITING;
  g_clear_pointer (&dash->new_job.message, g_free);
}

void
odd_dash_new_job_open (OddDash *dash)
{
  odd_dash_new_job_clear (dash);
  odd_dash_set_screen (dash, ODD_SCREEN_NEW_JOB);
}

const char *
odd_dash_validate_job_type (const char *type)
{
  g_autofree char *trimmed = g_strstrip (g_strdup (type != NULL ? type : ""));

  if (*trimmed == '\0')
    return "Job type cannot be empty";
  if (!g_utf8_validate (trimmed, -1, NULL))
    return "Job type must be alphanumeric (underscores/hyphens allowed)";
  if (g_utf8_strlen (trimmed, -1) > MAX_TYPE_CHARS)
    return "Job type too long (max 50 chars)";
  for (const char *p = trimmed; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar ch = g_utf8_get_char (p);

      if (!g_unichar_isalnum (ch) && ch != '_' && ch != '-')
        return "Job type must be alphanumeric (underscores/hyphens allowed)";
    }
  return NULL;
}

gboolean
odd_dash_parse_simulation (const char  *duration,
                           const char  *fail_rate,
                           gint64      *duration_ms,
                           double      *rate,
                           const char **error_text)
{
  g_autofree char *d = g_strstrip (g_strdup (duration != NULL ? duration : ""));
  g_autofree char *r = g_strstrip (g_strdup (fail_rate != NULL ? fail_rate : ""));
  char *end = NULL;

  *duration_ms = -1;
  *rate = -1;

  if (*d != '\0')
    {
      guint64 value;

      if (!g_ascii_string_to_unsigned (d, 10, 0, MAX_DURATION_MS, &value, NULL))
        {
          *error_text = "Duration must be a whole number of milliseconds, 0 to 600000";
          return FALSE;
        }
      *duration_ms = (gint64) value;
    }

  if (*r != '\0')
    {
      double value = g_ascii_strtod (r, &end);

      if (end == r || *end != '\0' || !(value >= 0 && value <= 1))
        {
          *error_text = "Fail rate must be a number from 0 to 1 (e.g. 0.25)";
          return FALSE;
        }
      *rate = value;
    }

  return TRUE;
}

static void
on_submitted (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  OddDash *dash = user_data;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) ids = odd_client_submit_jobs_finish (ODD_CLIENT (source), result, &error);
  OddNewJob *form;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  form = &dash->new_job;
  g_clear_pointer (&form->message, g_free);
  if (ids != NULL)
    {
      form->state = ODD_FORM_SUCCESS;
      form->message = g_strdup (ids[0] != NULL ? ids[0] : "(the gateway did not say)");
      /* Show it in the list at once, not at the next tick. */
      odd_dash_poll (dash);
    }
  else
    {
      const char *why = odd_dash_error_reason (error);
      guint status = odd_client_error_get_status (error);

      form->state = ODD_FORM_ERROR;
      if (g_error_matches (error, ODD_CLIENT_ERROR, ODD_CLIENT_ERROR_TIMEOUT))
        form->message = g_strdup ("Gateway timeout (2s) - the stack may be starting or unavailable");
      else if (status == 0)
        form->message = g_strdup_printf ("Cannot connect to the gateway (%s) - is the stack "
                                         "running? (%s)", dash->gateway_url, why);
      else if (status == 400)
        form->message = g_strdup_printf ("Validation failed: %s", why);
      else
        form->message = g_strdup_printf ("Gateway returned %u: %s", status, why);
    }
  odd_dash_queue_redraw (dash);
}

static void
submit (OddDash *dash)
{
  OddNewJob *form = &dash->new_job;
  g_autofree char *type = g_strstrip (g_strdup (form->fields[ODD_FIELD_TYPE]->str));
  const char *invalid = odd_dash_validate_job_type (type);
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) payload = NULL;
  gint64 duration_ms;
  double rate;

  g_clear_pointer (&form->message, g_free);
  if (invalid != NULL)
    {
      form->message = g_strdup (invalid);
      form->focus = ODD_FIELD_TYPE;
      odd_dash_queue_redraw (dash);
      return;
    }
  if (!odd_dash_parse_simulation (form->fields[ODD_FIELD_DURATION]->str,
                                  form->fields[ODD_FIELD_FAIL_RATE]->str,
                                  &duration_ms, &rate, &invalid))
    {
      form->message = g_strdup (invalid);
      odd_dash_queue_redraw (dash);
      return;
    }

  /* The short submission: the gateway fills in id, status and createdAt. */
  if (duration_ms >= 0 || rate >= 0)
    {
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "simulate");
      json_builder_begin_object (builder);
      if (duration_ms >= 0)
        {
          json_builder_set_member_name (builder, "durationMs");
          json_builder_add_int_value (builder, duration_ms);
        }
      if (rate >= 0)
        {
          json_builder_set_member_name (builder, "failRate");
          json_builder_add_double_value (builder, rate);
        }
      json_builder_end_object (builder);
      json_builder_end_object (builder);
      payload = json_builder_get_root (builder);
    }

  form->state = ODD_FORM_SUBMITTING;
  odd_client_submit_jobs_async (dash->client, type, payload, 1, dash->cancellable, on_submitted,
                                dash);
  odd_dash_queue_redraw (dash);
}

static gboolean
accepts (OddField field,
         gunichar ch)
{
  if (field == ODD_FIELD_TYPE)
    return g_unichar_isprint (ch);
  if (field == ODD_FIELD_DURATION)
    return g_unichar_isdigit (ch);
  return g_unichar_isdigit (ch) || ch == '.';
}

void
odd_dash_new_job_key (OddDash *dash,
                      int      key,
                      gboolean is_char)
{
  OddNewJob *form = &dash->new_job;
  GString *field = form->fields[form->focus];

  switch (form->state)
    {
    case ODD_FORM_SUBMITTING:
      return;  /* the answer comes within the 2 s timeout */
    case ODD_FORM_SUCCESS:
      odd_dash_set_screen (dash, ODD_SCREEN_DASHBOARD);
      odd_dash_poll (dash);
      return;
    case ODD_FORM_ERROR:
      /* Back to the form with the input kept, to fix and resend. */
      form->state = ODD_FORM_EDITING;
      odd_dash_queue_redraw (dash);
      return;
    case ODD_FORM_EDITING:
    default:
      break;
    }

  if (is_char && key == 27)
    {
      odd_dash_set_screen (dash, ODD_SCREEN_DASHBOARD);
      return;
    }
  if ((is_char && (key == '\r' || key == '\n')) || (!is_char && key == KEY_ENTER))
    {
      submit (dash);
      return;
    }
  if ((is_char && key == '\t') || (!is_char && key == KEY_DOWN))
    form->focus = (form->focus + 1) % ODD_FIELD_LAST;
  else if (!is_char && (key == KEY_UP || key == KEY_BTAB))
    form->focus = (form->focus + ODD_FIELD_LAST - 1) % ODD_FIELD_LAST;
  else if ((!is_char && key == KEY_BACKSPACE) || (is_char && (key == 127 || key == 8)))
    {
      if (field->len > 0)
        {
          const char *last = g_utf8_find_prev_char (field->str, field->str + field->len);

          g_string_truncate (field, last != NULL ? (gsize) (last - field->str) : 0);
        }
    }
  else if (is_char && key == 21)  /* ^U clears the field, as in a shell */
    g_string_truncate (field, 0);
  else if (is_char && accepts (form->focus, (gunichar) key) &&
           g_utf8_strlen (field->str, -1) < 64)
    g_string_append_unichar (field, (gunichar) key);

  g_clear_pointer (&form->message, g_free);
  odd_dash_queue_redraw (dash);
}

void
odd_dash_new_job_render (OddDash *dash,
                         OddGrid *grid)
{
  OddNewJob *form = &dash->new_job;
  OddColor color = form->state == ODD_FORM_SUCCESS ? ODD_COLOR_GREEN
                   : form->state == ODD_FORM_ERROR ? ODD_COLOR_RED : ODD_COLOR_CYAN;
  int y, x, width = MIN (72, grid->cols - 4);

  odd_dash_render_modal (grid, 12, width, color, "New job", &y, &x);

  for (guint i = 0; i < ODD_FIELD_LAST; i++)
    {
      gboolean focused = form->focus == i && form->state == ODD_FORM_EDITING;
      int row = y + 2 + (int) i * 2;
      int fx = x + 16;

      odd_grid_printf (grid, row, x + 2, 14, ODD_COLOR_DEFAULT,
                       focused ? ODD_ATTR_BOLD : ODD_ATTR_NONE, "%s%s", focused ? ">" : " ",
                       labels[i]);
      odd_grid_fill (grid, row, fx, 1, width - 18, ' ', ODD_COLOR_DEFAULT,
                     focused ? ODD_ATTR_REVERSE : ODD_ATTR_NONE);
      if (form->fields[i]->len > 0)
        odd_grid_printf (grid, row, fx, width - 18, ODD_COLOR_DEFAULT,
                         focused ? ODD_ATTR_REVERSE : ODD_ATTR_NONE, "%s%s",
                         form->fields[i]->str, focused ? "_" : "");
      else
        odd_grid_printf (grid, row, fx, width - 18, ODD_COLOR_DEFAULT,
                         focused ? ODD_ATTR_REVERSE | ODD_ATTR_DIM : ODD_ATTR_DIM, "%s%s",
                         focused ? "_ " : "", hints[i]);
    }

  switch (form->state)
    {
    case ODD_FORM_EDITING:
      if (form->message != NULL)
        odd_grid_printf (grid, y + 8, x + 2, width - 4, ODD_COLOR_RED, ODD_ATTR_BOLD, "%s %s",
                         grid->unicode ? "✗" : "x", form->message);
      odd_grid_print (grid, y + 10, x + 2, width - 4, ODD_COLOR_DEFAULT, ODD_ATTR_DIM,
                      "Tab next field  Enter submit  Esc cancel");
      break;
    case ODD_FORM_SUBMITTING:
      odd_grid_printf (grid, y + 8, x + 2, width - 4, ODD_COLOR_YELLOW, ODD_ATTR_BOLD,
                       "%s Submitting…", odd_dash_spinner (dash, grid));
      break;
    case ODD_FORM_SUCCESS:
      odd_grid_printf (grid, y + 8, x + 2, width - 4, ODD_COLOR_GREEN, ODD_ATTR_BOLD,
                       "%s Job created: %s", grid->unicode ? "✓" : "OK", form->message);
      odd_grid_print (grid, y + 10, x + 2, width - 4, ODD_COLOR_DEFAULT, ODD_ATTR_DIM,
                      "Press any key to close");
      break;
    case ODD_FORM_ERROR:
      odd_grid_printf (grid, y + 8, x + 2, width - 4, ODD_COLOR_RED, ODD_ATTR_BOLD, "%s %s",
                       grid->unicode ? "✗" : "x", form->message);
      odd_grid_print (grid, y + 10, x + 2, width - 4, ODD_COLOR_DEFAULT, ODD_ATTR_DIM,
                      "Press any key to edit again");
      break;
    default:
      break;
    }
}
