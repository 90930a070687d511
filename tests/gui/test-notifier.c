/* test-notifier.c: when OddNotifier tells the desktop, and when it keeps quiet */
#define G_LOG_DOMAIN "test-notifier"

#include "odd-notifier.h"

#define MINUTE ((gint64) 60 * G_USEC_PER_SEC)

static GNotification *
look (OddNotifier        *notifier,
      gint64              completed,
      gint64              failed,
      const char * const *firing,
      gint64              now,
      const char        **id)
{
  *id = NULL;
  return odd_notifier_observe (notifier, completed, failed, firing, NULL, now, id);
}

static void
test_failure_rate (void)
{
  g_autoptr(OddClient) client = odd_client_new (NULL);
  g_autoptr(OddNotifier) notifier = odd_notifier_new (NULL, client);
  g_autoptr(GNotification) n = NULL;
  const char *id;
  gint64 t = 10 * MINUTE;

  g_object_set (notifier, "failure-threshold", 0.2, NULL);
  /* The first look only sets where counting starts. */
  g_assert_null (look (notifier, 1000, 900, NULL, t, &id));
  /* 2 of 20 finished failed: below 20 %. */
  g_assert_null (look (notifier, 1018, 902, NULL, t += 5, &id));
  /* Too few finished to say anything, even if all failed. */
  g_assert_null (look (notifier, 1018, 906, NULL, t += 5, &id));
  /* 10 of 20 failed: crosses. */
  n = look (notifier, 1028, 916, NULL, t += 5, &id);
  g_assert_nonnull (n);
  g_assert_cmpstr (id, ==, "odd-failure-rate");
  g_clear_object (&n);
  /* Staying above says nothing again. */
  g_assert_null (look (notifier, 1038, 926, NULL, t += 5, &id));
  /* Below, then above again within the minute: kept quiet. */
  g_assert_null (look (notifier, 1058, 926, NULL, t += 5, &id));
  g_assert_null (look (notifier, 1068, 936, NULL, t += 5, &id));
  /* Below, then above again a minute after the last one: told. */
  g_assert_null (look (notifier, 1088, 936, NULL, t += MINUTE, &id));
  n = look (notifier, 1098, 946, NULL, t += 5, &id);
  g_assert_nonnull (n);
  g_clear_object (&n);

  /* Threshold 0: never. */
  g_object_set (notifier, "failure-threshold", 0.0, NULL);
  g_assert_null (look (notifier, 1098, 1046, NULL, t += 10 * MINUTE, &id));
}

static void
test_alerts (void)
{
  g_autoptr(OddClient) client = odd_client_new (NULL);
  g_autoptr(OddNotifier) notifier = odd_notifier_new (NULL, client);
  const char *none[] = { NULL };
  const char *one[] = { "GatewayDown", NULL };
  const char *two[] = { "GatewayDown", "QueueBacklog", NULL };
  g_autoptr(GNotification) n = NULL;
  const char *id;
  gint64 t = 10 * MINUTE;

  /* What fires at the first look fired before: no news. */
  g_assert_null (look (notifier, 0, 0, one, t, &id));
  g_assert_null (look (notifier, 0, 0, none, t += 5, &id));
  n = look (notifier, 0, 0, one, t += 5, &id);
  g_assert_nonnull (n);
  g_assert_cmpstr (id, ==, "odd-alert");
  g_clear_object (&n);
  /* Still firing: nothing new. */
  g_assert_null (look (notifier, 0, 0, one, t += 2 * MINUTE, &id));
  /* A second one starts: told (a minute went by). */
  n = look (notifier, 0, 0, two, t += 5, &id);
  g_assert_nonnull (n);
  g_clear_object (&n);
  /* It stops and starts again within the minute: quiet. */
  g_assert_null (look (notifier, 0, 0, one, t += 5, &id));
  g_assert_null (look (notifier, 0, 0, two, t += 5, &id));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/notifier/failure-rate", test_failure_rate);
  g_test_add_func ("/notifier/alerts", test_alerts);
  return g_test_run ();
}
