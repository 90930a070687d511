/* odd-fuzz.c: set-up shared by the libFuzzer targets
 *
 * Copyright 2026 The Distributed Task Observatory authors
 * SPDX-License-Identifier: MIT
 */
#define G_LOG_DOMAIN "odd-fuzz"

#include "odd-build-config.h"

#include <stdlib.h>

#include "odd-fuzz.h"

static char *contracts_dir;

/* Debug and info messages would only slow every execution down; the rest goes to stderr. */
static void
quiet_log (const char     *log_domain,
           GLogLevelFlags  log_level,
           const char     *message,
           gpointer        user_data)
{
  if ((log_level & (G_LOG_LEVEL_DEBUG | G_LOG_LEVEL_INFO | G_LOG_LEVEL_MESSAGE)) != 0)
    return;
  /* Not g_log_default_handler(): it stops a fatal message with SIGTRAP, which libFuzzer does
   * not catch. abort() makes it report the crash and save the input. */
  g_printerr ("%s: %s\n", log_domain != NULL ? log_domain : "(null)", message);
  abort ();
}

void
odd_fuzz_init (void)
{
  const char *env = g_getenv ("CONTRACTS_PATH");

  /* A critical or warning from our code on some input is a bug the fuzzer should report. */
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING | G_LOG_LEVEL_ERROR);
  g_log_set_default_handler (quiet_log, NULL);
  g_unsetenv ("G_MESSAGES_DEBUG");

  contracts_dir = g_strdup (env != NULL && *env != '\0' ? env : ODD_SOURCE_DIR "/contracts");
  g_setenv ("CONTRACTS_PATH", contracts_dir, TRUE);
}

const char *
odd_fuzz_contracts_dir (void)
{
  return contracts_dir;
}
