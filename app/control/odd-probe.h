/* odd-probe.h: is a server listening, is a service ready (blocking, short timeouts) */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* TRUE when something accepts a TCP connection on 127.0.0.1:@port. */
gboolean odd_probe_tcp          (guint16        port,
                                 GCancellable  *cancellable);
/* The HTTP status of GET @path on 127.0.0.1:@port, or 0 when there is no HTTP answer. */
guint    odd_probe_http_status  (guint16        port,
                                 const char    *path,
                                 GCancellable  *cancellable);

/* TRUE when the PostgreSQL server on 127.0.0.1:@port accepts connections (what pg_isready
 * reports: not while it starts, recovers or stops), asked in its wire protocol. */
gboolean odd_probe_postgres     (guint16        port,
                                 GCancellable  *cancellable);

G_END_DECLS
