/* odd-wt-protocol.h: the frames of the web terminal's WebSocket (contracts/schemas/
 * web-terminal-client-frame.json and web-terminal-server-frame.json)
 *
 * Every frame is a JSON object in a text frame, tagged by "type".
 * Client → server: auth {token}, start {cols?, rows?}, reconnect {session, token, cols?, rows?},
 *                  input {data}, resize {cols, rows}, ping.
 * Server → client: hello {authRequired, readOnly}, session / reconnected {sessionId,
 *                  reconnectToken, cols, rows}, output {data}, notice {message},
 *                  error {code, message}, pong, exit {status}.
 */
#pragma once

#include <json-glib/json-glib.h>
#include "odd-schema.h"

G_BEGIN_DECLS

#define ODD_WT_MIN_SIZE 1
#define ODD_WT_MAX_SIZE 500

typedef enum {
  ODD_WT_FRAME_AUTH,
  ODD_WT_FRAME_START,
  ODD_WT_FRAME_RECONNECT,
  ODD_WT_FRAME_INPUT,
  ODD_WT_FRAME_RESIZE,
  ODD_WT_FRAME_PING,
} OddWtFrameType;

/* A client frame that passed the schema; strings belong to the frame. */
typedef struct {
  OddWtFrameType  type;
  char           *token;    /* auth, reconnect */
  char           *session;  /* reconnect */
  char           *data;     /* input, UTF-8 (an escaped NUL ends it: json-glib keeps C strings) */
  guint           cols;     /* start, reconnect (0 when absent), resize */
  guint           rows;
} OddWtFrame;

void        odd_wt_frame_free          (OddWtFrame *frame);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OddWtFrame, odd_wt_frame_free)

/* Parses and checks a client frame against the client-frame schema of @schemas (loaded by the
 * caller). NULL + @message (for an error frame) when it is not a valid frame. */
OddWtFrame *odd_wt_frame_parse         (OddSchemaRegistry *schemas,
                                        const char   *text,
                                        gsize         len,
                                        char        **message);

/* Server frames, as compact JSON text. */
char       *odd_wt_frame_hello         (gboolean      auth_required,
                                        gboolean      read_only);
char       *odd_wt_frame_session       (gboolean      reconnected,
                                        const char   *session_id,
                                        const char   *reconnect_token,
                                        guint         cols,
                                        guint         rows);
char       *odd_wt_frame_output        (const char   *text);
char       *odd_wt_frame_notice        (const char   *message);
char       *odd_wt_frame_error         (const char   *code,
                                        const char   *message);
char       *odd_wt_frame_pong          (void);
char       *odd_wt_frame_exit          (int           status);

/* Turns terminal output into text for output frames: a multibyte character split across two
 * reads is held back until its end arrives; invalid bytes become U+FFFD; NUL bytes (which a
 * terminal ignores) are dropped. */
typedef struct {
  guint8 pending[4];
  guint  n_pending;
} OddWtUtf8Carry;

/* Returns the text that is complete so far (maybe ""); keeps an incomplete tail in @carry. */
char       *odd_wt_utf8_carry_take     (OddWtUtf8Carry *carry,
                                        const guint8   *data,
                                        gsize           len);

/* Constant-time comparison of a secret with what a client sent. */
gboolean    odd_wt_secret_equal        (const char   *expected,
                                        const char   *given);

G_END_DECLS
