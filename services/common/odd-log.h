/* odd-log.h: structured logs, one JSON object a line on stderr
 *
 * odd_log_init() installs a GLog writer, so g_message(), g_warning() etc. also come out as
 * {"ts","level","service","msg"[,"correlationId"]} lines; human readable when stderr is a tty
 * (or ODD_LOG_FORMAT=text).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

void odd_log_init (const char *service);

/* Logs with a correlation id field (NULL allowed). */
void odd_log      (GLogLevelFlags  level,
                   const char     *correlation_id,
                   const char     *format,
                   ...) G_GNUC_PRINTF (3, 4);

#define odd_info(corr, ...)    odd_log (G_LOG_LEVEL_INFO, (corr), __VA_ARGS__)
#define odd_warning(corr, ...) odd_log (G_LOG_LEVEL_WARNING, (corr), __VA_ARGS__)

G_END_DECLS
