#define G_LOG_DOMAIN "odd-test"

#include <glib/gstdio.h>

#include "odd-control-error.h"
#include "odd-programs.h"

static void
test_missing_server_names_package (void)
{
  const char *dirs[] = { "/nonexistent", NULL };
  g_autoptr(GError) error = NULL;
  g_autofree char *found = odd_programs_find_server ("odd-no-such-server", dirs,
                                                     "odd-no-such-package", &error);

  g_assert_null (found);
  g_assert_error (error, ODD_CONTROL_ERROR, ODD_CONTROL_ERROR_MISSING_PROGRAM);
  g_assert_nonnull (strstr (error->message, "sudo apt-get install -y odd-no-such-package"));
}

static void
test_server_in_dirs_first (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("odd-programs-XXXXXX", &error);
  g_autofree char *fake = g_build_filename (dir, "sh", NULL);
  const char *dirs[] = { "/nonexistent", dir, NULL };
  g_autofree char *found = NULL;
  g_autofree char *from_path = NULL;

  g_assert_no_error (error);
  g_assert_true (g_file_set_contents (fake, "#!/bin/sh\n", -1, NULL));
  g_assert_cmpint (g_chmod (fake, 0755), ==, 0);

  /* The given directories win over $PATH (which has a real sh). */
  found = odd_programs_find_server ("sh", dirs, "dash", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (found, ==, fake);

  g_unlink (fake);
  from_path = odd_programs_find_server ("sh", dirs, "dash", &error);
  g_assert_no_error (error);
  g_assert_nonnull (from_path);
  g_assert_cmpstr (from_path, !=, fake);

  g_rmdir (dir);
}

static void
test_service_in_build_tree (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("odd-programs-XXXXXX", &error);
  g_autofree char *service_dir = g_build_filename (dir, "services", "odd-test-svc", NULL);
  g_autofree char *binary = g_build_filename (service_dir, "odd-odd-test-svc", NULL);
  g_autofree char *services = g_path_get_dirname (service_dir);
  g_autofree char *found = NULL;
  gboolean in_build_tree = FALSE;

  g_assert_no_error (error);
  g_assert_cmpint (g_mkdir_with_parents (service_dir, 0755), ==, 0);
  g_assert_true (g_file_set_contents (binary, "#!/bin/sh\n", -1, NULL));
  g_assert_cmpint (g_chmod (binary, 0755), ==, 0);

  g_setenv ("ODD_BUILD_DIR", dir, TRUE);
  found = odd_programs_find_service ("odd-test-svc", &in_build_tree, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (found, ==, binary);
  g_assert_true (in_build_tree);
  g_clear_pointer (&found, g_free);

  /* Gone: the error says where it looked and how to build it. */
  g_unlink (binary);
  found = odd_programs_find_service ("odd-test-svc", &in_build_tree, &error);
  g_assert_null (found);
  g_assert_error (error, ODD_CONTROL_ERROR, ODD_CONTROL_ERROR_MISSING_PROGRAM);
  g_assert_nonnull (strstr (error->message, "odd-odd-test-svc not found"));
  g_assert_nonnull (strstr (error->message, "meson compile"));

  g_rmdir (service_dir);
  g_rmdir (services);
  g_rmdir (dir);
}

static void
test_postgres_bindir (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *bindir = odd_programs_find_postgres_bindir (&error);
  g_autofree char *initdb = NULL;

  /* Needs the postgresql package, which ./setup.sh installs; without it, the error must
   * name the package. */
  if (bindir == NULL)
    {
      g_assert_error (error, ODD_CONTROL_ERROR, ODD_CONTROL_ERROR_MISSING_PROGRAM);
      g_assert_nonnull (strstr (error->message, "sudo apt-get install -y postgresql"));
      return;
    }

  initdb = g_build_filename (bindir, "initdb", NULL);
  g_assert_true (g_file_test (initdb, G_FILE_TEST_IS_EXECUTABLE));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/control/programs/missing-server-names-package",
                   test_missing_server_names_package);
  g_test_add_func ("/control/programs/server-in-dirs-first", test_server_in_dirs_first);
  g_test_add_func ("/control/programs/service-in-build-tree", test_service_in_build_tree);
  g_test_add_func ("/control/programs/postgres-bindir", test_postgres_bindir);

  return g_test_run ();
}
