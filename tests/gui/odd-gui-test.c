#define G_LOG_DOMAIN "odd-gui-test"

#include <stdlib.h>
#include <string.h>
#include <glib/gstdio.h>

#include "odd-build-config.h"
#include "odd-gui.h"
#include "odd-gui-test.h"

void
odd_gui_test_init (int    *argc,
                   char ***argv)
{
  /* Without a display there is nothing to test here: skip (TAP), saying how to get one. */
  if (g_getenv ("DISPLAY") == NULL && g_getenv ("WAYLAND_DISPLAY") == NULL)
    {
      g_print ("1..0 # SKIP no display: run under xvfb-run -a (as ./setup.sh test does)\n");
      exit (0);
    }

  /* Nothing of the developer's desktop leaks in: memory settings, no a11y bus. */
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  g_setenv ("GTK_A11Y", "none", TRUE);
  g_setenv ("GSK_RENDERER", "cairo", FALSE);
  g_setenv ("GDK_BACKEND", "x11", FALSE);
  gtk_test_init (argc, argv, NULL);
  odd_gui_init ();
  odd_gui_test_set_dark (FALSE);
}

gboolean
odd_gui_test_wait (gboolean (*done) (gpointer data),
                   gpointer   data,
                   guint      seconds)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) seconds * G_USEC_PER_SEC;

  while (!done (data))
    {
      if (g_get_monotonic_time () > deadline)
        return FALSE;
      g_main_context_iteration (NULL, FALSE);
      g_usleep (2000);
    }
  return TRUE;
}

void
odd_gui_test_spin (guint ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) ms * 1000;

  while (g_get_monotonic_time () < end)
    {
      while (g_main_context_iteration (NULL, FALSE))
        ;
      g_usleep (2000);
    }
}

void
odd_gui_test_set_dark (gboolean dark)
{
  adw_style_manager_set_color_scheme (adw_style_manager_get_default (),
                                      dark ? ADW_COLOR_SCHEME_FORCE_DARK : ADW_COLOR_SCHEME_FORCE_LIGHT);
}

static gboolean
allocated (gpointer data)
{
  GtkWidget *window = data;

  return gtk_widget_get_mapped (window) && gtk_widget_get_width (window) > 0;
}

void
odd_gui_test_present (GtkWindow *window,
                      int        width,
                      int        height)
{
  gtk_window_set_default_size (window, width, height);
  gtk_window_present (window);
  g_assert_true (odd_gui_test_wait (allocated, window, 20));
  odd_gui_test_spin (300);
}

GtkWindow *
odd_gui_test_window (GtkWidget *child,
                     int        width,
                     int        height)
{
  GtkWindow *window = GTK_WINDOW (adw_window_new ());
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);

  gtk_box_append (GTK_BOX (box), adw_header_bar_new ());
  gtk_widget_set_vexpand (child, TRUE);
  gtk_box_append (GTK_BOX (box), child);
  adw_window_set_content (ADW_WINDOW (window), box);
  odd_gui_test_present (window, width, height);
  return window;
}

static GskRenderNode *
snapshot_window (GtkWidget *widget)
{
  g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new (widget);
  GtkSnapshot *snapshot = gtk_snapshot_new ();

  gdk_paintable_snapshot (paintable, GDK_SNAPSHOT (snapshot), gtk_widget_get_width (widget),
                          gtk_widget_get_height (widget));
  return gtk_snapshot_free_to_node (snapshot);
}

GdkTexture *
odd_gui_test_render (GtkWindow *window)
{
  GtkWidget *widget = GTK_WIDGET (window);
  g_autoptr(GskRenderNode) node = NULL;
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  /* Between a change and the next frame the widget may have no render node: let it draw. */
  while ((node = snapshot_window (widget)) == NULL && g_get_monotonic_time () < deadline)
    odd_gui_test_spin (50);
  g_assert_nonnull (node);
  return gsk_renderer_render_texture (gtk_native_get_renderer (GTK_NATIVE (window)), node,
                                      &GRAPHENE_RECT_INIT (0, 0, gtk_widget_get_width (widget),
                                                           gtk_widget_get_height (widget)));
}

char *
odd_gui_test_screenshot_dir (void)
{
  const char *build = g_getenv ("ODD_BUILD_DIR");
  char *dir = g_build_filename (build != NULL ? build : ODD_BUILD_DIR, "tests", "gui", "screenshots", NULL);

  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  return dir;
}

void
odd_gui_test_save_screenshot (GtkWindow  *window,
                              const char *name)
{
  g_autofree char *dir = odd_gui_test_screenshot_dir ();
  g_autofree char *file = g_strconcat (name, ".png", NULL);
  g_autofree char *path = g_build_filename (dir, file, NULL);
  g_autoptr(GdkTexture) texture = odd_gui_test_render (window);

  g_assert_true (gdk_texture_save_to_png (texture, path));
  g_test_message ("screenshot: %s", path);
}

static guchar *
texture_pixels (GdkTexture *texture)
{
  int width = gdk_texture_get_width (texture);
  int height = gdk_texture_get_height (texture);
  guchar *data = g_malloc ((gsize) width * height * 4);

  gdk_texture_download (texture, data, (gsize) width * 4);
  return data;
}

void
odd_gui_test_check_screenshot (GtkWindow  *window,
                               const char *name)
{
  g_autoptr(GdkTexture) actual = odd_gui_test_render (window);
  g_autofree char *dir = odd_gui_test_screenshot_dir ();
  g_autofree char *file = g_strconcat (name, ".png", NULL);
  g_autofree char *actual_path = g_build_filename (dir, file, NULL);
  const char *source = g_getenv ("ODD_SOURCE_DIR");
  g_autofree char *reference_path = g_build_filename (source != NULL ? source : ODD_SOURCE_DIR,
                                                      "tests", "gui", "reference", file, NULL);
  g_autoptr(GdkTexture) reference = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree guchar *a = NULL;
  g_autofree guchar *b = NULL;
  gsize n, differing = 0;

  g_assert_true (gdk_texture_save_to_png (actual, actual_path));
  if (g_strcmp0 (g_getenv ("ODD_UPDATE_SCREENSHOTS"), "1") == 0)
    {
      g_assert_true (gdk_texture_save_to_png (actual, reference_path));
      g_test_message ("updated the reference %s", reference_path);
      return;
    }

  reference = gdk_texture_new_from_filename (reference_path, &error);
  if (reference == NULL)
    g_error ("%s: no reference (%s); look at %s and, if it is right, run again with "
             "ODD_UPDATE_SCREENSHOTS=1", name, error->message, actual_path);
  if (gdk_texture_get_width (reference) != gdk_texture_get_width (actual) ||
      gdk_texture_get_height (reference) != gdk_texture_get_height (actual))
    g_error ("%s: %d×%d, the reference is %d×%d (actual: %s)", name,
             gdk_texture_get_width (actual), gdk_texture_get_height (actual),
             gdk_texture_get_width (reference), gdk_texture_get_height (reference), actual_path);

  a = texture_pixels (actual);
  b = texture_pixels (reference);
  n = (gsize) gdk_texture_get_width (actual) * gdk_texture_get_height (actual);
  for (gsize i = 0; i < n; i++)
    for (guint c = 0; c < 4; c++)
      if (ABS ((int) a[i * 4 + c] - (int) b[i * 4 + c]) > 48)
        {
          differing++;
          break;
        }
  g_test_message ("%s: %" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT " pixels differ", name, differing, n);
  if (differing * 100 > n)
    g_error ("%s: %" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT " pixels differ from %s (actual: %s)",
             name, differing, n, reference_path, actual_path);
}

char *
odd_gui_test_terminal_text (VteTerminal *terminal)
{
  /* vte_terminal_get_text() is what VTE 0.70 offers for "the screen as shown";
   * its replacement (vte_terminal_get_text_format) is 0.76. */
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  return vte_terminal_get_text (terminal, NULL, NULL, NULL);
  G_GNUC_END_IGNORE_DEPRECATIONS
}

gboolean
odd_gui_test_process_ended (GPid pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", pid);
  g_autofree char *stat = NULL;
  const char *state;

  if (!g_file_get_contents (path, &stat, NULL, NULL))
    return TRUE;
  /* "pid (comm) S ...": the state follows the last parenthesis. */
  state = strrchr (stat, ')');
  return state != NULL && state[1] == ' ' && state[2] == 'Z';
}

GtkWidget *
odd_gui_test_find_button (GtkWidget  *widget,
                          const char *action)
{
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found;

      if (GTK_IS_BUTTON (child) &&
          g_strcmp0 (gtk_actionable_get_action_name (GTK_ACTIONABLE (child)), action) == 0)
        return child;
      if ((found = odd_gui_test_find_button (child, action)) != NULL)
        return found;
    }
  return NULL;
}
