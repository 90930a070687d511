/* odd-fuzz.h: what the libFuzzer targets share
 *
 * Copyright 2026 The Distributed Task Observatory authors
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <glib.h>
#include <stdint.h>
#include <stddef.h>

G_BEGIN_DECLS

int LLVMFuzzerInitialize   (int            *argc,
                            char         ***argv);
int LLVMFuzzerTestOneInput (const uint8_t  *data,
                            size_t          size);

/* Once per process: GLib quiet (no g_debug noise), criticals and warnings fatal so a fuzzer
 * that makes the code emit one is reported as a crash, and the contracts directory. */
void odd_fuzz_init (void);

/* The contracts directory of the source tree (or $CONTRACTS_PATH). */
const char *odd_fuzz_contracts_dir (void);

G_END_DECLS
