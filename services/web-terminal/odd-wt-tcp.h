/* odd-wt-tcp.h: how much a TCP peer has taken (for backpressure) */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* TCP_INFO's bytes acknowledged by the peer on socket @fd; FALSE when it is not TCP. */
gboolean odd_wt_tcp_bytes_acked (int      fd,
                                 guint64 *acked);

G_END_DECLS
