#define G_LOG_DOMAIN "odd-terminal-tab"

#include <signal.h>
#include <sys/wait.h>
#include <glib/gi18n.h>

#include "odd-build-config.h"
#include "odd-terminal-tab.h"

struct _OddTerminalTab
{
  GtkBox           parent_instance;

  GtkRevealer     *exit_revealer;
  GtkLabel        *exit_label;
  VteTerminal     *terminal;

  OddTerminalKind  kind;
  OddStackMonitor *monitor;
  GStrv            argv;
  char            *title;
  char            *pending_input;  /* typed once the child runs */
  GPid             pid;
  gboolean         exited;
  gboolean         spawning;
  GCancellable    *cancellable;
};

G_DEFINE_FINAL_TYPE (OddTerminalTab, odd_terminal_tab, GTK_TYPE_BOX)

enum
{
  PROP_0,
  PROP_TITLE,
  PROP_EXITED,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* The GNOME palette (light and dark variants of the same hues). */
static const char * const palette_light[16] = {
  "#241f31", "#c01c28", "#26a269", "#a2734c", "#12488b", "#a347ba", "#2aa1b3", "#cfcfcf",
  "#5e5c64", "#f66151", "#33d17a", "#e9ad0c", "#2a7bde", "#c061cb", "#33c7de", "#ffffff",
};
static const char * const palette_dark[16] = {
  "#241f31", "#c01c28", "#2ec27e", "#f5c211", "#1e78e4", "#9841bb", "#0ab9dc", "#c0bfbc",
  "#5e5c64", "#ed333b", "#57e389", "#f8e45c", "#51a1ff", "#c061cb", "#4fd2fd", "#f6f5f4",
};

static void
apply_palette (OddTerminalTab *self)
{
  gboolean dark = adw_style_manager_get_dark (adw_style_manager_get_default ());
  const char * const *names = dark ? palette_dark : palette_light;
  GdkRGBA palette[16];
  GdkRGBA fg, bg;

  for (guint i = 0; i < 16; i++)
    gdk_rgba_parse (&palette[i], names[i]);
  /* The libadwaita view colours, so that the terminal sits in the window like a view. */
  gdk_rgba_parse (&fg, dark ? "#ffffff" : "#000000");
  gdk_rgba_parse (&bg, dark ? "#1e1e1e" : "#ffffff");
  if (!dark)
    fg.alpha = 0.8f;
  vte_terminal_set_colors (self->terminal, &fg, &bg, palette, 16);
}

char *
odd_terminal_find_dashboard (void)
{
  g_autofree char *self_exe = g_file_read_link ("/proc/self/exe", NULL);
  const char *build_dir = g_getenv ("ODD_BUILD_DIR");
  g_autoptr(GPtrArray) candidates = g_ptr_array_new_with_free_func (g_free);

  if (self_exe != NULL)
    {
      g_autofree char *dir = g_path_get_dirname (self_exe);

      g_ptr_array_add (candidates, g_build_filename (dir, "odd-dashboard", NULL));
      /* In the build tree the app is app/gui/odd-observatory, the dashboard app/tui/. */
      g_ptr_array_add (candidates, g_build_filename (dir, "..", "tui", "odd-dashboard", NULL));
    }
  g_ptr_array_add (candidates, g_build_filename (build_dir != NULL ? build_dir : ODD_BUILD_DIR,
                                                 "app", "tui", "odd-dashboard", NULL));
  g_ptr_array_add (candidates, g_build_filename (ODD_BINDIR, "odd-dashboard", NULL));

  for (guint i = 0; i < candidates->len; i++)
    if (g_file_test (g_ptr_array_index (candidates, i), G_FILE_TEST_IS_EXECUTABLE))
      return g_canonicalize_filename (g_ptr_array_index (candidates, i), NULL);
  return g_find_program_in_path ("odd-dashboard");
}

static void
set_title (OddTerminalTab *self,
           const char     *title)
{
  if (g_strcmp0 (self->title, title) == 0)
    return;
  g_free (self->title);
  self->title = g_strdup (title);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TITLE]);
}

static void
show_exit (OddTerminalTab *self,
           const char     *message)
{
  gtk_label_set_text (self->exit_label, message);
  gtk_revealer_set_reveal_child (self->exit_revealer, TRUE);
  if (!self->exited)
    {
      self->exited = TRUE;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_EXITED]);
    }
}

static void
on_child_exited (OddTerminalTab *self,
                 int             status)
{
  g_autofree char *message = NULL;
  const char *program = self->kind == ODD_TERMINAL_DASHBOARD ? "odd-dashboard"
                        : self->kind == ODD_TERMINAL_SHELL ? _("The shell") : self->argv[0];

  self->pid = 0;
  if (WIFEXITED (status))
    /* Translators: %s: a program, %d: its exit status */
    message = g_strdup_printf (_("%s exited with status %d."), program, WEXITSTATUS (status));
  else if (WIFSIGNALED (status))
    message = g_strdup_printf (_("%s was ended by signal %d."), program, WTERMSIG (status));
  else
    message = g_strdup_printf (_("%s ended."), program);
  show_exit (self, message);
}

static void
on_spawned (VteTerminal *terminal,
            GPid         pid,
            GError      *error,
            gpointer     user_data)
{
  OddTerminalTab *self = user_data;

  /* The tab may be gone: VTE then reports G_IO_ERROR_CANCELLED. */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  self->spawning = FALSE;
  if (error != NULL)
    {
      g_autofree char *message = g_strdup_printf (_("Could not start it: %s"), error->message);

      show_exit (self, message);
      return;
    }
  self->pid = pid;
  if (self->pending_input != NULL)
    {
      vte_terminal_feed_child (self->terminal, self->pending_input, -1);
      g_clear_pointer (&self->pending_input, g_free);
    }
}

static void
spawn (OddTerminalTab *self)
{
  g_auto(GStrv) env = g_get_environ ();
  g_auto(GStrv) argv = NULL;
  g_autofree char *program = NULL;

  if (self->pid != 0 || self->spawning)
    return;

  switch (self->kind)
    {
    case ODD_TERMINAL_DASHBOARD:
      program = odd_terminal_find_dashboard ();
      if (program == NULL)
        {
          show_exit (self, _("odd-dashboard was not found. Build the project (meson compile -C build) or install it, then restart."));
          return;
        }
      argv = g_new0 (char *, 2);
      argv[0] = g_steal_pointer (&program);
      if (self->monitor != NULL && odd_stack_monitor_get_read_model_url (self->monitor) != NULL)
        env = g_environ_setenv (env, "READ_MODEL_URL", odd_stack_monitor_get_read_model_url (self->monitor), TRUE);
      if (self->monitor != NULL && odd_stack_monitor_get_gateway_url (self->monitor) != NULL)
        env = g_environ_setenv (env, "GATEWAY_URL", odd_stack_monitor_get_gateway_url (self->monitor), TRUE);
      break;
    case ODD_TERMINAL_SHELL:
      argv = g_new0 (char *, 2);
      argv[0] = g_strdup (g_getenv ("SHELL") != NULL ? g_getenv ("SHELL") : "/bin/sh");
      break;
    case ODD_TERMINAL_COMMAND:
    default:
      argv = g_strdupv (self->argv);
      break;
    }

  /* The app's own debug settings are not the child's. */
  env = g_environ_unsetenv (env, "G_DEBUG");
  env = g_environ_setenv (env, "COLORTERM", "truecolor", TRUE);

  self->spawning = TRUE;
  gtk_revealer_set_reveal_child (self->exit_revealer, FALSE);
  if (self->exited)
    {
      self->exited = FALSE;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_EXITED]);
    }
  vte_terminal_spawn_async (self->terminal, VTE_PTY_DEFAULT, g_get_home_dir (),
                            argv, env, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL,
                            -1, self->cancellable, on_spawned, self);
}

void
odd_terminal_tab_restart (OddTerminalTab *self)
{
  g_return_if_fail (ODD_IS_TERMINAL_TAB (self));

  if (self->pid != 0)
    return;
  vte_terminal_reset (self->terminal, TRUE, TRUE);
  spawn (self);
}

static void
restart_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  odd_terminal_tab_restart (ODD_TERMINAL_TAB (widget));
}

void
odd_terminal_tab_type (OddTerminalTab *self,
                       const char     *text)
{
  g_return_if_fail (ODD_IS_TERMINAL_TAB (self));
  g_return_if_fail (text != NULL);

  if (self->pid != 0)
    vte_terminal_feed_child (self->terminal, text, -1);
  else
    {
      g_free (self->pending_input);
      self->pending_input = g_strdup (text);
    }
}

void
odd_terminal_tab_terminate (OddTerminalTab *self)
{
  g_return_if_fail (ODD_IS_TERMINAL_TAB (self));

  g_cancellable_cancel (self->cancellable);
  /* VTE starts the child as a session leader: its group is its pid. */
  if (self->pid > 0)
    kill (-self->pid, SIGHUP);
}

static void
odd_terminal_tab_dispose (GObject *object)
{
  OddTerminalTab *self = ODD_TERMINAL_TAB (object);

  odd_terminal_tab_terminate (self);
  if (self->terminal != NULL)
    g_signal_handlers_disconnect_by_data (self->terminal, self);
  gtk_widget_dispose_template (GTK_WIDGET (self), ODD_TYPE_TERMINAL_TAB);
  self->terminal = NULL;

  G_OBJECT_CLASS (odd_terminal_tab_parent_class)->dispose (object);
}

static void
odd_terminal_tab_finalize (GObject *object)
{
  OddTerminalTab *self = ODD_TERMINAL_TAB (object);

  g_clear_object (&self->monitor);
  g_clear_object (&self->cancellable);
  g_strfreev (self->argv);
  g_free (self->title);
  g_free (self->pending_input);

  G_OBJECT_CLASS (odd_terminal_tab_parent_class)->finalize (object);
}

static void
odd_terminal_tab_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  OddTerminalTab *self = ODD_TERMINAL_TAB (object);

  switch (prop_id)
    {
    case PROP_TITLE:
      g_value_set_string (value, self->title);
      break;
    case PROP_EXITED:
      g_value_set_boolean (value, self->exited);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
odd_terminal_tab_class_init (OddTerminalTabClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = odd_terminal_tab_dispose;
  object_class->finalize = odd_terminal_tab_finalize;
  object_class->get_property = odd_terminal_tab_get_property;

  properties[PROP_TITLE] =
    g_param_spec_string ("title", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_EXITED] =
    g_param_spec_boolean ("exited", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (VTE_TYPE_TERMINAL);
  gtk_widget_class_set_template_from_resource (widget_class, ODD_RESOURCE_PREFIX "/odd-terminal-tab.ui");
  gtk_widget_class_bind_template_child (widget_class, OddTerminalTab, exit_revealer);
  gtk_widget_class_bind_template_child (widget_class, OddTerminalTab, exit_label);
  gtk_widget_class_bind_template_child (widget_class, OddTerminalTab, terminal);

  gtk_widget_class_install_action (widget_class, "tab.restart", NULL, restart_action);
}

static void
odd_terminal_tab_init (OddTerminalTab *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->cancellable = g_cancellable_new ();

  g_signal_connect_swapped (self->terminal, "child-exited", G_CALLBACK (on_child_exited), self);
  g_signal_connect_object (adw_style_manager_get_default (), "notify::dark",
                           G_CALLBACK (apply_palette), self, G_CONNECT_SWAPPED);
  apply_palette (self);
}

GtkWidget *
odd_terminal_tab_new (OddTerminalKind     kind,
                      OddStackMonitor    *monitor,
                      const char * const *argv)
{
  OddTerminalTab *self;

  g_return_val_if_fail (kind != ODD_TERMINAL_COMMAND || (argv != NULL && argv[0] != NULL), NULL);
  g_return_val_if_fail (monitor == NULL || ODD_IS_STACK_MONITOR (monitor), NULL);

  self = g_object_new (ODD_TYPE_TERMINAL_TAB, NULL);
  self->kind = kind;
  self->monitor = monitor != NULL ? g_object_ref (monitor) : NULL;
  self->argv = g_strdupv ((char **) argv);
  switch (kind)
    {
    case ODD_TERMINAL_DASHBOARD:
      set_title (self, _("Dashboard"));
      break;
    case ODD_TERMINAL_SHELL:
      set_title (self, _("Shell"));
      break;
    case ODD_TERMINAL_COMMAND:
    default:
      {
        g_autofree char *name = g_path_get_basename (argv[0]);

        set_title (self, name);
      }
      break;
    }
  spawn (self);
  return GTK_WIDGET (self);
}

VteTerminal *
odd_terminal_tab_get_terminal (OddTerminalTab *self)
{
  g_return_val_if_fail (ODD_IS_TERMINAL_TAB (self), NULL);
  return self->terminal;
}

const char *
odd_terminal_tab_get_title (OddTerminalTab *self)
{
  g_return_val_if_fail (ODD_IS_TERMINAL_TAB (self), NULL);
  return self->title;
}

GPid
odd_terminal_tab_get_pid (OddTerminalTab *self)
{
  g_return_val_if_fail (ODD_IS_TERMINAL_TAB (self), 0);
  return self->pid;
}

gboolean
odd_terminal_tab_get_exited (OddTerminalTab *self)
{
  g_return_val_if_fail (ODD_IS_TERMINAL_TAB (self), FALSE);
  return self->exited;
}
