#define G_LOG_DOMAIN "odd-tools"

#include <unistd.h>

#include "odd-control-error.h"
#include "odd-tools.h"

char *
odd_tools_find (const char  *name,
                GError     **error)
{
  const char *bundled_dir = g_getenv ("ODD_TOOLS_DIR");
  char *path;

  g_return_val_if_fail (name != NULL && *name != '\0', NULL);

  if (bundled_dir != NULL && *bundled_dir != '\0')
    {
      g_autofree char *bundled = g_build_filename (bundled_dir, name, NULL);

      if (g_file_test (bundled, G_FILE_TEST_IS_REGULAR) && access (bundled, X_OK) == 0)
        return g_steal_pointer (&bundled);
    }

  path = g_find_program_in_path (name);
  if (path == NULL)
    g_set_error (error, ODD_CONTROL_ERROR, ODD_CONTROL_ERROR_MISSING_PROGRAM,
                 "%s is not installed (looked in %s%s$PATH)", name,
                 bundled_dir != NULL && *bundled_dir != '\0' ? bundled_dir : "",
                 bundled_dir != NULL && *bundled_dir != '\0' ? " and " : "");

  return path;
}

gboolean
odd_tools_in_flatpak (void)
{
  return g_file_test ("/.flatpak-info", G_FILE_TEST_EXISTS);
}

void
odd_tools_init_sandbox (void)
{
  g_autofree char *kubeconfig = NULL;

  if (!odd_tools_in_flatpak () || g_getenv ("KUBECONFIG") != NULL)
    return;
  kubeconfig = g_build_filename (g_get_user_config_dir (), "kube", "config", NULL);
  g_setenv ("KUBECONFIG", kubeconfig, FALSE);
}
