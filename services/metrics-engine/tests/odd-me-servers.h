/* odd-me-servers.h: private PostgreSQL, Redis and RabbitMQ for the integration tests
 *
 * When ODD_TEST_POSTGRES_URL / ODD_TEST_REDIS_URL / ODD_TEST_RABBITMQ_URL are not set (CI), the
 * tests start their own servers in a temporary directory, on free loopback ports, and stop
 * them at the end.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _OddMeServers OddMeServers;

/* NULL and @reason when this machine lacks a server program (or, as root, a postgres user). */
OddMeServers *odd_me_servers_start        (char         **reason);
void          odd_me_servers_stop         (OddMeServers  *self);
const char   *odd_me_servers_postgres_url (OddMeServers  *self);
const char   *odd_me_servers_redis_url    (OddMeServers  *self);
const char   *odd_me_servers_rabbitmq_url (OddMeServers  *self);

/* A loopback port nothing listens on, in 19000-19999. */
guint         odd_me_free_port            (void);

G_END_DECLS
