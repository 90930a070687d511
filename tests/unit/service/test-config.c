#include "odd-config.h"

static void
test_string (void)
{
  g_setenv ("ODD_TEST_STR", "abc", TRUE);
  g_assert_cmpstr (odd_config_string ("ODD_TEST_STR", "x"), ==, "abc");
  g_setenv ("ODD_TEST_STR", "", TRUE);
  g_assert_cmpstr (odd_config_string ("ODD_TEST_STR", "x"), ==, "x");
  g_unsetenv ("ODD_TEST_STR");
  g_assert_cmpstr (odd_config_string ("ODD_TEST_STR", "x"), ==, "x");
  g_assert_null (odd_config_string ("ODD_TEST_STR", NULL));
}

static void
test_int (void)
{
  g_autoptr(GError) error = NULL;
  gint64 v = 0;

  g_unsetenv ("ODD_TEST_INT");
  g_assert_true (odd_config_int ("ODD_TEST_INT", 42, 0, 100, &v, &error));
  g_assert_no_error (error);
  g_assert_cmpint (v, ==, 42);

  g_setenv ("ODD_TEST_INT", " 17 ", TRUE);
  g_assert_true (odd_config_int ("ODD_TEST_INT", 42, 0, 100, &v, &error));
  g_assert_cmpint (v, ==, 17);

  g_setenv ("ODD_TEST_INT", "101", TRUE);
  g_assert_false (odd_config_int ("ODD_TEST_INT", 42, 0, 100, &v, &error));
  g_assert_error (error, ODD_CONFIG_ERROR, 0);
  g_assert_nonnull (strstr (error->message, "ODD_TEST_INT"));
  g_assert_nonnull (strstr (error->message, "[0, 100]"));
  g_clear_error (&error);

  g_setenv ("ODD_TEST_INT", "12abc", TRUE);
  g_assert_false (odd_config_int ("ODD_TEST_INT", 42, 0, 100, &v, &error));
  g_assert_error (error, ODD_CONFIG_ERROR, 0);
  g_clear_error (&error);

  g_setenv ("ODD_TEST_INT", "99999999999999999999999", TRUE);
  g_assert_false (odd_config_int ("ODD_TEST_INT", 42, G_MININT64, G_MAXINT64, &v, &error));
  g_clear_error (&error);

  g_setenv ("ODD_TEST_INT", "-5", TRUE);
  g_assert_true (odd_config_int ("ODD_TEST_INT", 42, -10, 10, &v, &error));
  g_assert_cmpint (v, ==, -5);
  g_unsetenv ("ODD_TEST_INT");
}

static void
test_double (void)
{
  g_autoptr(GError) error = NULL;
  double v = 0;

  g_unsetenv ("ODD_TEST_DBL");
  g_assert_true (odd_config_double ("ODD_TEST_DBL", 0.5, 0, 1, &v, &error));
  g_assert_cmpfloat (v, ==, 0.5);

  g_setenv ("ODD_TEST_DBL", "0.25", TRUE);
  g_assert_true (odd_config_double ("ODD_TEST_DBL", 0.5, 0, 1, &v, &error));
  g_assert_cmpfloat (v, ==, 0.25);

  g_setenv ("ODD_TEST_DBL", "nan", TRUE);
  g_assert_false (odd_config_double ("ODD_TEST_DBL", 0.5, 0, 1, &v, &error));
  g_assert_error (error, ODD_CONFIG_ERROR, 0);
  g_clear_error (&error);

  g_setenv ("ODD_TEST_DBL", "1.5", TRUE);
  g_assert_false (odd_config_double ("ODD_TEST_DBL", 0.5, 0, 1, &v, &error));
  g_clear_error (&error);
  g_unsetenv ("ODD_TEST_DBL");
}

static void
test_bool (void)
{
  const char *yes[] = { "1", "true", "TRUE", "Yes", "on" };
  const char *no[] = { "0", "false", "off", "nope" };

  g_unsetenv ("ODD_TEST_BOOL");
  g_assert_true (odd_config_bool ("ODD_TEST_BOOL", TRUE));
  g_assert_false (odd_config_bool ("ODD_TEST_BOOL", FALSE));
  for (guint i = 0; i < G_N_ELEMENTS (yes); i++)
    {
      g_setenv ("ODD_TEST_BOOL", yes[i], TRUE);
      g_assert_true (odd_config_bool ("ODD_TEST_BOOL", FALSE));
    }
  for (guint i = 0; i < G_N_ELEMENTS (no); i++)
    {
      g_setenv ("ODD_TEST_BOOL", no[i], TRUE);
      g_assert_false (odd_config_bool ("ODD_TEST_BOOL", TRUE));
    }
  g_unsetenv ("ODD_TEST_BOOL");
}

static void
test_instance_id (void)
{
  g_setenv ("HOSTNAME", "pod-7", TRUE);
  g_assert_cmpstr (odd_config_instance_id (), ==, "pod-7");
  g_unsetenv ("HOSTNAME");
  g_assert_cmpstr (odd_config_instance_id (), ==, g_get_host_name ());
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/config/string", test_string);
  g_test_add_func ("/config/int", test_int);
  g_test_add_func ("/config/double", test_double);
  g_test_add_func ("/config/bool", test_bool);
  g_test_add_func ("/config/instance-id", test_instance_id);
  return g_test_run ();
}
