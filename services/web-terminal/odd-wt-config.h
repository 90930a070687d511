/* odd-wt-config.h: the web terminal's configuration (ODD_WT_* and the command it runs) */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct {
  char      **command;          /* argv of the program each session runs */
  char       *token;            /* ODD_WT_TOKEN, NULL when no token is required */
  gboolean    read_only;        /* ODD_WT_READ_ONLY */
  gboolean    faults;           /* ODD_WT_FAULTS: ?fault= on /ws injects failures (tests) */
  guint       idle_timeout_s;   /* ODD_WT_IDLE_TIMEOUT_S: no input for this long ends a session */
  guint       grace_s;          /* ODD_WT_GRACE_S: a detached session is ended after this */
  guint       handshake_s;      /* ODD_WT_HANDSHAKE_S: a connection must attach within this */
  guint       per_client_cap;   /* ODD_WT_PER_CLIENT_CAP */
  guint       global_cap;       /* ODD_WT_GLOBAL_CAP */
  gsize       queue_bytes;      /* ODD_WT_QUEUE_BYTES: unsent output that pauses the PTY */
  gsize       ring_bytes;       /* ODD_WT_RING_BYTES: output kept for a reconnect */
  gsize       max_frame_bytes;  /* ODD_WT_MAX_FRAME_BYTES: the largest client frame */
  GPtrArray  *trusted_proxies;  /* ODD_WT_TRUSTED_PROXIES: GInetAddressMask, X-Forwarded-For from these */
  GPtrArray  *allowed_origins;  /* ODD_WT_ALLOWED_ORIGINS: Origins besides the page's own */
  char       *read_model_url;   /* READ_MODEL_URL: /api/stats and the dashboard's */
  char       *gateway_url;      /* GATEWAY_URL: the dashboard's */
} OddWtConfig;

/* NULL + ODD_CONFIG_ERROR naming the variable when a value is invalid or no dashboard is found. */
OddWtConfig *odd_wt_config_new_from_env     (GError            **error);
void         odd_wt_config_free             (OddWtConfig        *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OddWtConfig, odd_wt_config_free)

/* Whether @address is one of the trusted proxies. */
gboolean     odd_wt_config_is_trusted_proxy (const OddWtConfig  *config,
                                             GInetAddress       *address);

/* The dashboard to run: next to this program, in the build tree, installed, or on PATH. */
char        *odd_wt_config_find_dashboard   (void);

G_END_DECLS
