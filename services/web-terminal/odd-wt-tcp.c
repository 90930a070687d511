/* odd-wt-tcp.c: how much a TCP peer has taken
 *
 * Kept apart because glibc's <netinet/tcp.h> lacks tcpi_bytes_acked and cannot be mixed with
 * <linux/tcp.h>, which has it. */
#include "odd-wt-tcp.h"

#include <stddef.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <linux/tcp.h>

gboolean
odd_wt_tcp_bytes_acked (int      fd,
                        guint64 *acked)
{
  struct tcp_info info = { 0 };
  socklen_t len = sizeof info;

  if (getsockopt (fd, IPPROTO_TCP, TCP_INFO, &info, &len) < 0 ||
      len < offsetof (struct tcp_info, tcpi_bytes_acked) + sizeof info.tcpi_bytes_acked)
    return FALSE;
  *acked = info.tcpi_bytes_acked;
  return TRUE;
}
