/* test-wt-config.c: the web terminal's configuration, and the errors that name what to fix */
#include "odd-wt-config.h"
#include "odd-config.h"

#include <string.h>

/* odd_wt_config_new_from_env() with @name=@value; the error message, or NULL when it passed. */
static char *
config_error (const char *name,
              const char *value)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(OddWtConfig) config = NULL;

  g_setenv ("ODD_WEB_TERMINAL_COMMAND", "cat", TRUE);
  g_setenv (name, value, TRUE);
  config = odd_wt_config_new_from_env (&error);
  g_unsetenv (name);
  g_unsetenv ("ODD_WEB_TERMINAL_COMMAND");
  if (config != NULL)
    return NULL;
  g_assert_error (error, ODD_CONFIG_ERROR, 0);
  return g_strdup (error->message);
}

static void
test_defaults (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(OddWtConfig) config = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);

  g_setenv ("ODD_WEB_TERMINAL_COMMAND", "cat -u", TRUE);
  config = odd_wt_config_new_from_env (&error);
  g_unsetenv ("ODD_WEB_TERMINAL_COMMAND");
  g_assert_no_error (error);
  g_assert_true (g_path_is_absolute (config->command[0]));
  g_assert_cmpstr (config->command[1], ==, "-u");
  g_assert_null (config->token);
  g_assert_false (config->read_only);
  g_assert_false (config->faults);
  g_assert_cmpuint (config->ring_bytes, ==, 64 * 1024);
  g_assert_cmpuint (config->per_client_cap, ==, 5);
  g_assert_false (odd_wt_config_is_trusted_proxy (config, loopback));
}

static void
test_trusted_proxies (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(OddWtConfig) config = NULL;
  g_autoptr(GInetAddress) inside = g_inet_address_new_from_string ("10.1.2.3");
  g_autoptr(GInetAddress) outside = g_inet_address_new_from_string ("11.1.2.3");

  g_setenv ("ODD_WEB_TERMINAL_COMMAND", "cat", TRUE);
  g_setenv ("ODD_WT_TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1", TRUE);
  config = odd_wt_config_new_from_env (&error);
  g_unsetenv ("ODD_WT_TRUSTED_PROXIES");
  g_unsetenv ("ODD_WEB_TERMINAL_COMMAND");
  g_assert_no_error (error);
  g_assert_true (odd_wt_config_is_trusted_proxy (config, inside));
  g_assert_false (odd_wt_config_is_trusted_proxy (config, outside));
}

static void
test_errors_name_the_variable (void)
{
  const struct {
    const char *name;
    const char *value;
  } bad[] = {
    { "ODD_WT_TRUSTED_PROXIES", "10.0.0.0/33" },
    { "ODD_WT_TRUSTED_PROXIES", "proxy.example" },
    { "ODD_WT_ALLOWED_ORIGINS", "evil" },
    { "ODD_WT_ALLOWED_ORIGINS", "ftp://odd.example" },
    { "ODD_WT_PER_CLIENT_CAP", "0" },
    { "ODD_WT_GLOBAL_CAP", "many" },
    { "ODD_WT_QUEUE_BYTES", "10" },
    { "ODD_WT_IDLE_TIMEOUT_S", "-1" },
    { "ODD_WEB_TERMINAL_COMMAND", "no-such-program-anywhere" },
    { "ODD_WEB_TERMINAL_COMMAND", "cat 'unbalanced" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *message = config_error (bad[i].name, bad[i].value);

      if (message == NULL)
        g_error ("%s=%s was accepted", bad[i].name, bad[i].value);
      if (strstr (message, bad[i].name) == NULL)
        g_error ("%s=%s: \"%s\" does not name the variable", bad[i].name, bad[i].value, message);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/web-terminal/config/defaults", test_defaults);
  g_test_add_func ("/web-terminal/config/trusted-proxies", test_trusted_proxies);
  g_test_add_func ("/web-terminal/config/errors", test_errors_name_the_variable);

  return g_test_run ();
}
