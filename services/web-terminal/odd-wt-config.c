/* odd-wt-config.c: the web terminal's configuration */
#define G_LOG_DOMAIN "odd-web-terminal"

#include "odd-wt-config.h"
#include "odd-config.h"
#include "odd-build-config.h"

#include <unistd.h>

static gboolean
read_uint (const char *name,
           gint64      fallback,
           gint64      min,
           gint64      max,
           guint      *out,
           GError    **error)
{
  gint64 value;

  if (!odd_config_int (name, fallback, min, max, &value, error))
    return FALSE;
  *out = (guint) value;
  return TRUE;
}

static gboolean
read_size (const char *name,
           gint64      fallback,
           gint64      min,
           gint64      max,
           gsize      *out,
           GError    **error)
{
  gint64 value;

  if (!odd_config_int (name, fallback, min, max, &value, error))
    return FALSE;
  *out = (gsize) value;
  return TRUE;
}

static char **
split_list (const char *value)
{
  g_auto(GStrv) parts = g_strsplit_set (value != NULL ? value : "", ", ", -1);
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  for (guint i = 0; parts[i] != NULL; i++)
    if (parts[i][0] != '\0')
      g_strv_builder_add (builder, parts[i]);
  return g_strv_builder_end (builder);
}

static gboolean
read_proxies (OddWtConfig  *config,
              GError      **error)
{
  g_auto(GStrv) items = split_list (g_getenv ("ODD_WT_TRUSTED_PROXIES"));

  config->trusted_proxies = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; items[i] != NULL; i++)
    {
      g_autoptr(GError) local_error = NULL;
      GInetAddressMask *mask = g_inet_address_mask_new_from_string (items[i], &local_error);

      if (mask == NULL)
        {
          g_set_error (error, ODD_CONFIG_ERROR, 0,
                       "ODD_WT_TRUSTED_PROXIES: \"%s\" is not an address or CIDR block (%s); "
                       "give a comma-separated list such as 10.0.0.0/8,127.0.0.1",
                       items[i], local_error->message);
          return FALSE;
        }
      g_ptr_array_add (config->trusted_proxies, mask);
    }
  return TRUE;
}

static gboolean
read_origins (OddWtConfig  *config,
              GError      **error)
{
  g_auto(GStrv) items = split_list (g_getenv ("ODD_WT_ALLOWED_ORIGINS"));

  config->allowed_origins = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; items[i] != NULL; i++)
    {
      g_autoptr(GUri) uri = g_uri_parse (items[i], G_URI_FLAGS_NONE, NULL);

      if (uri == NULL || g_uri_get_host (uri) == NULL ||
          (g_strcmp0 (g_uri_get_scheme (uri), "http") != 0 &&
           g_strcmp0 (g_uri_get_scheme (uri), "https") != 0))
        {
          g_set_error (error, ODD_CONFIG_ERROR, 0,
                       "ODD_WT_ALLOWED_ORIGINS: \"%s\" is not an origin such as https://odd.example.org",
                       items[i]);
          return FALSE;
        }
      g_ptr_array_add (config->allowed_origins, g_strdup (items[i]));
    }
  return TRUE;
}

char *
odd_wt_config_find_dashboard (void)
{
  g_autofree char *self_path = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *self_dir = self_path != NULL ? g_path_get_dirname (self_path) : NULL;
  g_autofree char *next_to_self = self_dir != NULL ? g_build_filename (self_dir, "odd-dashboard", NULL) : NULL;
  g_autofree char *in_build = g_build_filename (ODD_BUILD_DIR, "app", "tui", "odd-dashboard", NULL);
  g_autofree char *installed = g_build_filename (ODD_BINDIR, "odd-dashboard", NULL);
  const char *candidates[] = { next_to_self, in_build, installed };

  for (guint i = 0; i < G_N_ELEMENTS (candidates); i++)
    if (candidates[i] != NULL && g_file_test (candidates[i], G_FILE_TEST_IS_EXECUTABLE))
      return g_strdup (candidates[i]);

  return g_find_program_in_path ("odd-dashboard");
}

static gboolean
read_command (OddWtConfig  *config,
              GError      **error)
{
  const char *value = odd_config_string ("ODD_WEB_TERMINAL_COMMAND", NULL);
  g_autofree char *program = NULL;
  g_autoptr(GError) local_error = NULL;

  if (value != NULL)
    {
      if (!g_shell_parse_argv (value, NULL, &config->command, &local_error))
        {
          g_set_error (error, ODD_CONFIG_ERROR, 0,
                       "ODD_WEB_TERMINAL_COMMAND: %s", local_error->message);
          return FALSE;
        }
      program = g_find_program_in_path (config->command[0]);
      if (program == NULL)
        {
          g_set_error (error, ODD_CONFIG_ERROR, 0,
                       "ODD_WEB_TERMINAL_COMMAND: \"%s\" is not an executable program",
                       config->command[0]);
          return FALSE;
        }
      g_free (config->command[0]);
      config->command[0] = g_steal_pointer (&program);
      return TRUE;
    }

  program = odd_wt_config_find_dashboard ();
  if (program == NULL)
    {
      g_set_error (error, ODD_CONFIG_ERROR, 0,
                   "odd-dashboard was found neither next to this program, in the build tree, "
                   "in " ODD_BINDIR " nor on PATH; build it or set ODD_WEB_TERMINAL_COMMAND");
      return FALSE;
    }
  config->command = g_new0 (char *, 2);
  config->command[0] = g_steal_pointer (&program);
  return TRUE;
}

OddWtConfig *
odd_wt_config_new_from_env (GError **error)
{
  g_autoptr(OddWtConfig) config = g_new0 (OddWtConfig, 1);

  config->token = g_strdup (odd_config_string ("ODD_WT_TOKEN", NULL));
  config->read_only = odd_config_bool ("ODD_WT_READ_ONLY", FALSE);
  config->faults = odd_config_bool ("ODD_WT_FAULTS", FALSE);
  config->read_model_url = g_strdup (odd_config_string ("READ_MODEL_URL", "http://127.0.0.1:8080"));
  config->gateway_url = g_strdup (odd_config_string ("GATEWAY_URL", "http://127.0.0.1:3000"));

  if (!read_uint ("ODD_WT_IDLE_TIMEOUT_S", 1800, 1, 7 * 24 * 3600, &config->idle_timeout_s, error) ||
      !read_uint ("ODD_WT_GRACE_S", 60, 0, 24 * 3600, &config->grace_s, error) ||
      !read_uint ("ODD_WT_HANDSHAKE_S", 10, 1, 600, &config->handshake_s, error) ||
      !read_uint ("ODD_WT_PER_CLIENT_CAP", 5, 1, 10000, &config->per_client_cap, error) ||
      !read_uint ("ODD_WT_GLOBAL_CAP", 200, 1, 100000, &config->global_cap, error) ||
      !read_size ("ODD_WT_QUEUE_BYTES", 256 * 1024, 4096, 64 * 1024 * 1024, &config->queue_bytes, error) ||
      !read_size ("ODD_WT_RING_BYTES", 64 * 1024, 1024, 16 * 1024 * 1024, &config->ring_bytes, error) ||
      !read_size ("ODD_WT_MAX_FRAME_BYTES", 64 * 1024, 256, 1024 * 1024, &config->max_frame_bytes, error) ||
      !read_proxies (config, error) ||
      !read_origins (config, error) ||
      !read_command (config, error))
    return NULL;

  return g_steal_pointer (&config);
}

void
odd_wt_config_free (OddWtConfig *config)
{
  if (config == NULL)
    return;
  g_strfreev (config->command);
  if (config->token != NULL)
    explicit_bzero (config->token, strlen (config->token));
  g_free (config->token);
  g_clear_pointer (&config->trusted_proxies, g_ptr_array_unref);
  g_clear_pointer (&config->allowed_origins, g_ptr_array_unref);
  g_free (config->read_model_url);
  g_free (config->gateway_url);
  g_free (config);
}

gboolean
odd_wt_config_is_trusted_proxy (const OddWtConfig *config,
                                GInetAddress      *address)
{
  for (guint i = 0; i < config->trusted_proxies->len; i++)
    if (g_inet_address_mask_matches (g_ptr_array_index (config->trusted_proxies, i), address))
      return TRUE;
  return FALSE;
}
