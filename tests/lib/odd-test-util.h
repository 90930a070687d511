/* odd-test-util.h: helpers any test program may link (GLib and GIO only), the services' own
 * tests included: meson reads tests/lib before services/.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A loopback port nothing listens on now (the kernel's choice). */
guint16   odd_test_free_port           (void);

typedef enum {
  ODD_TEST_POSTGRES = 1 << 0,
  ODD_TEST_REDIS    = 1 << 1,
  ODD_TEST_RABBITMQ = 1 << 2,
} OddTestServers;

/* The servers of `meson test --setup servers`: the integration fixture's odd-with-servers
 * starts private PostgreSQL, Redis and RabbitMQ for the program and names them in
 * ODD_TEST_POSTGRES_URL, ODD_TEST_REDIS_URL and ODD_TEST_RABBITMQ_URL. TRUE when every
 * server in @needed is named; else the running test is marked skipped with how to get them. */
gboolean  odd_test_have_servers        (OddTestServers needed);

G_END_DECLS
