#define G_LOG_DOMAIN "odd-dashboard-uis"

#define _XOPEN_SOURCE_EXTENDED 1

#include <string.h>
#include <curses.h>
#include <json-glib/json-glib.h>

#include "odd-dashboard.h"
#include "odd-schema.h"

void
odd_ui_entry_free (OddUiEntry *entry)
{
  if (entry == NULL)
    return;
  g_free (entry->id);
  g_free (entry->name);
  g_free (entry->emoji);
  g_free (entry->description);
  g_free (entry->url);
  g_free (entry);
}

GPtrArray *
odd_dash_uis_load (OddDash     *dash,
                   const char  *path,
                   GError     **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(OddSchemaRegistry) schemas = NULL;
  g_autoptr(GPtrArray) problems = NULL;
  g_autoptr(GPtrArray) entries = g_ptr_array_new_with_free_func ((GDestroyNotify) odd_ui_entry_free);
  g_autoptr(GError) local_error = NULL;
  JsonObject *root;
  JsonArray *items;
  const char *base;
  g_autoptr(OddStackPaths) stack_paths = NULL;
  g_autofree char *web_terminal = NULL;

  if (!json_parser_load_from_file (parser, path, &local_error))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT)
                   ? "Registry not found: %s" : "Registry malformed: %s", local_error->message);
      return NULL;
    }

  /* The registry is a contract: check it against its schema when the schemas are there. */
  schemas = odd_schema_registry_new_default (NULL);
  if (schemas != NULL && odd_schema_registry_has (schemas, "ui-registry"))
    {
      problems = odd_schema_registry_validate (schemas, "ui-registry",
                                               json_parser_get_root (parser), NULL);
      if (problems != NULL && problems->len > 0)
        {
          g_autofree char *text = odd_validation_errors_to_string (problems);

          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "Registry malformed: %s",
                       text);
          return NULL;
        }
    }

  if (!JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "Registry malformed: not an object");
      return NULL;
    }
  root = json_node_get_object (json_parser_get_root (parser));
  base = json_object_get_string_member_with_default (root, "baseUrl", "http://localhost");
  items = json_object_has_member (root, "entries") &&
          JSON_NODE_HOLDS_ARRAY (json_object_get_member (root, "entries"))
          ? json_object_get_array_member (root, "entries") : NULL;
  if (items == NULL || json_array_get_length (items) == 0)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "Invalid entry: Registry has no entries");
      return NULL;
    }

  /* The local stack runs the web terminal on a port of its own. */
  if (dash != NULL && dash->endpoints == ODD_ENDPOINTS_SOURCE_STACK &&
      (stack_paths = odd_stack_paths_new_from_env (NULL)) != NULL)
    web_terminal = odd_stack_paths_http_url (stack_paths, ODD_PORT_WEB_TERMINAL);

  for (guint i = 0; i < json_array_get_length (items); i++)
    {
      JsonNode *node = json_array_get_element (items, i);
      JsonObject *item;
      OddUiEntry *entry;
      gint64 port;
      const char *ui_path;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        continue;
      item = json_node_get_object (node);
      entry = g_new0 (OddUiEntry, 1);
      entry->id = g_strdup (json_object_get_string_member_with_default (item, "id", "?"));
      entry->name = g_strdup (json_object_get_string_member_with_default (item, "name", "?"));
      entry->emoji = g_strdup (json_object_get_string_member_with_default (item, "emoji", ""));
      entry->description = g_strdup (json_object_get_string_member_with_default (item, "description", ""));
      port = json_object_get_int_member_with_default (item, "port", 0);
      ui_path = json_object_get_string_member_with_default (item, "path", "/");

      /* The registry names the reference's ports; the gateway and the read model are where
       * this dashboard talks to them (the local stack uses other ports). */
      if (port == 3000 && dash != NULL)
        entry->url = g_strconcat (dash->gateway_url, ui_path, NULL);
      else if (port == 8080 && dash != NULL)
        entry->url = g_strconcat (dash->read_model_url, ui_path, NULL);
      else if (port == 9000 && web_terminal != NULL)
        entry->url = g_strconcat (web_terminal, ui_path, NULL);
      else
        entry->url = g_strdup_printf ("%s:%" G_GINT64_FORMAT "%s", base, port, ui_path);
      g_ptr_array_add (entries, entry);
    }

  return g_steal_pointer (&entries);
}

char *
odd_dash_uis_restriction (const char *url)
{
  const char *ssh_client = g_getenv ("SSH_CLIENT");
  const char *ssh_tty = g_getenv ("SSH_TTY");
  const char *display = g_getenv ("DISPLAY");
  const char *wayland = g_getenv ("WAYLAND_DISPLAY");

  if ((ssh_client != NULL && *ssh_client != '\0') || (ssh_tty != NULL && *ssh_tty != '\0'))
    return g_strdup_printf ("SSH session detected - browser launch not available. URL: %s", url);
#ifndef __APPLE__
  if ((display == NULL || *display == '\0') && (wayland == NULL || *wayland == '\0'))
    return g_strdup_printf ("No DISPLAY set (headless environment). URL: %s", url);
#endif
  return NULL;
}

void
odd_dash_uis_open (OddDash *dash)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = odd_contracts_dir ();
  g_autofree char *path = g_build_filename (dir, "ui-registry.json", NULL);
  g_autoptr(GPtrArray) entries = odd_dash_uis_load (dash, path, &error);

  g_clear_pointer (&dash->ui_message, g_free);
  g_ptr_array_set_size (dash->uis, 0);
  dash->ui_selected = 0;
  if (entries == NULL)
    {
      dash->ui_message = g_strdup (error->message);
      dash->ui_message_error = TRUE;
    }
  else
    g_ptr_array_extend_and_steal (dash->uis, g_steal_pointer (&entries));
  odd_dash_set_screen (dash, ODD_SCREEN_UIS);
}

static void
on_opener_exited (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  OddDash *dash = user_data;
  GSubprocess *proc = G_SUBPROCESS (source);
  g_autoptr(GError) error = NULL;

  if (!g_subprocess_wait_check_finish (proc, result, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      g_free (dash->ui_message);
      dash->ui_message = g_strdup_printf ("Launch failed: %s", error->message);
      dash->ui_message_error = TRUE;
      odd_dash_queue_redraw (dash);
      return;
    }
  if (dash->screen == ODD_SCREEN_UIS)
    odd_dash_set_screen (dash, ODD_SCREEN_DASHBOARD);
}

static void
open_entry (OddDash    *dash,
            OddUiEntry *entry)
{
  g_autofree char *restriction = odd_dash_uis_restriction (entry->url);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) proc = NULL;
#ifdef __APPLE__
  const char *opener = "open";
#else
  const char *opener = "xdg-open";
#endif
  g_autofree char *path = g_find_program_in_path (opener);

  g_clear_pointer (&dash->ui_message, g_free);
  if (restriction != NULL)
    {
      dash->ui_message = g_strdup_printf ("Environment restriction: %s (C copies it)", restriction);
      dash->ui_message_error = TRUE;
      odd_dash_queue_redraw (dash);
      return;
    }
  if (path == NULL)
    {
      dash->ui_message = g_strdup_printf ("No browser available: %s not found. URL: %s", opener,
                                          entry->url);
      dash->ui_message_error = TRUE;
      odd_dash_queue_redraw (dash);
      return;
    }

  {
    const char *argv[] = { path, entry->url, NULL };

    proc = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                              G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error);
  }
  if (proc == NULL)
    {
      dash->ui_message = g_strdup_printf ("Launch failed: %s", error->message);
      dash->ui_message_error = TRUE;
      odd_dash_queue_redraw (dash);
      return;
    }
  dash->ui_message = g_strdup_printf ("Opening %s…", entry->url);
  dash->ui_message_error = FALSE;
  g_subprocess_wait_check_async (proc, dash->cancellable, on_opener_exited, dash);
  odd_dash_queue_redraw (dash);
}

void
odd_dash_uis_key (OddDash *dash,
                  int      key,
                  gboolean is_char)
{
  int k = is_char && key < 128 ? g_ascii_tolower (key) : key;
  OddUiEntry *entry = dash->uis->len > 0 ? dash->uis->pdata[dash->ui_selected] : NULL;

  if (is_char && (k == 27 || k == 'u'))
    odd_dash_set_screen (dash, ODD_SCREEN_DASHBOARD);
  else if (is_char && (k == 'q' || k == 3))
    odd_dash_quit (dash, 0);
  else if ((!is_char && key == KEY_UP) || (is_char && k == 'k'))
    {
      dash->ui_selected = MAX (0, dash->ui_selected - 1);
      g_clear_pointer (&dash->ui_message, g_free);
      odd_dash_queue_redraw (dash);
    }
  else if ((!is_char && key == KEY_DOWN) || (is_char && k == 'j'))
    {
      dash->ui_selected = MIN ((int) dash->uis->len - 1, dash->ui_selected + 1);
      g_clear_pointer (&dash->ui_message, g_free);
      odd_dash_queue_redraw (dash);
    }
  else if (is_char && k == 'c' && entry != NULL)
    odd_dash_copy_to_clipboard (dash, entry->url);
  else if (((is_char && (k == '\r' || k == '\n')) || (!is_char && key == KEY_ENTER)) &&
           entry != NULL)
    open_entry (dash, entry);
}

void
odd_dash_uis_render (OddDash *dash,
                     OddGrid *grid)
{
  int width = MIN (72, grid->cols - 2);
  int height = MIN ((int) dash->uis->len + 8, grid->rows - 2);
  int y, x, row;

  odd_dash_render_modal (grid, height, width, ODD_COLOR_CYAN, "Launch UI", &y, &x);
  row = y + 1;

  for (guint i = 0; i < dash->uis->len && row < y + height - 5; i++)
    {
      OddUiEntry *entry = dash->uis->pdata[i];
      gboolean selected = (int) i == dash->ui_selected;
      int cx = x + 2;

      cx += odd_grid_print (grid, row, cx, -1, ODD_COLOR_CYAN, ODD_ATTR_BOLD,
                            selected ? "> " : "  ");
      if (grid->unicode && *entry->emoji != '\0')
        cx += odd_grid_printf (grid, row, cx, 3, ODD_COLOR_DEFAULT, ODD_ATTR_NONE, "%s ",
                               entry->emoji);
      cx += odd_grid_printf (grid, row, cx, width - (cx - x) - 2, ODD_COLOR_DEFAULT,
                             selected ? ODD_ATTR_BOLD : ODD_ATTR_NONE, "%s ", entry->name);
      odd_grid_printf (grid, row, cx, width - (cx - x) - 2, ODD_COLOR_DEFAULT, ODD_ATTR_DIM,
                       "(%s)", entry->url);
      row++;
    }

  if (dash->uis->len > 0)
    odd_grid_print (grid, y + height - 5, x + 2, width - 4, ODD_COLOR_DEFAULT, ODD_ATTR_DIM,
                    ((OddUiEntry *) dash->uis->pdata[dash->ui_selected])->description);
  if (dash->ui_message != NULL)
    {
      /* Long messages (the URL) wrap onto a second line. */
      int w = width - 4;
      int len = (int) g_utf8_strlen (dash->ui_message, -1);

      odd_grid_print (grid, y + height - 4, x + 2, w,
                      dash->ui_message_error ? ODD_COLOR_RED : ODD_COLOR_GREEN, ODD_ATTR_NONE,
                      dash->ui_message);
      if (len > w)
        odd_grid_print (grid, y + height - 3, x + 2, w,
                        dash->ui_message_error ? ODD_COLOR_RED : ODD_COLOR_GREEN, ODD_ATTR_NONE,
                        g_utf8_offset_to_pointer (dash->ui_message, w));
    }
  odd_grid_print (grid, y + height - 2, x + 2, width - 4, ODD_COLOR_DEFAULT, ODD_ATTR_DIM,
                  "Up/Down Navigate  Enter Open  C Copy URL  Esc Close");
}
