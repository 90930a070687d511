/* odd-dashboard.h: the state of odd-dashboard, shared by its files
 *
 * One OddDash lives for the whole program, on the GLib main loop: the terminal, the polling
 * client, every screen's state and the operations in flight (local stack, kind cluster,
 * doctor, a fix command). Every file works on this struct; the terminal is touched only by
 * odd-dashboard-term.c, so drawing is testable without one.
 */
#pragma once

#include <gio/gio.h>

#include "odd-client.h"
#include "odd-dashboard-grid.h"
#include "odd-doctor.h"
#include "odd-local-stack.h"

G_BEGIN_DECLS

#define ODD_DASH_HTTP_TIMEOUT_S         2
#define ODD_DASH_MIN_ROWS               16
#define ODD_DASH_MIN_COLS               60
#define ODD_DASH_LOG_LINES              200
#define ODD_DASH_SERIES_WINDOW          120

typedef enum
{
  ODD_SCREEN_LOADING,
  ODD_SCREEN_LAUNCHER,
  ODD_SCREEN_PROGRESS,    /* the local stack or the kind cluster starting */
  ODD_SCREEN_DASHBOARD,
  ODD_SCREEN_DETAIL,
  ODD_SCREEN_NEW_JOB,     /* a modal over the dashboard */
  ODD_SCREEN_UIS,         /* a modal over the dashboard */
  ODD_SCREEN_DOCTOR,
  ODD_SCREEN_PREREQ,
  ODD_SCREEN_SHUTDOWN,
} OddScreen;

typedef enum
{
  ODD_FIELD_TYPE,
  ODD_FIELD_DURATION,
  ODD_FIELD_FAIL_RATE,
  ODD_FIELD_LAST,
} OddField;

typedef enum
{
  ODD_FORM_EDITING,
  ODD_FORM_SUBMITTING,
  ODD_FORM_SUCCESS,
  ODD_FORM_ERROR,
} OddFormState;

typedef struct
{
  GString      *fields[ODD_FIELD_LAST];
  OddField      focus;
  OddFormState  state;
  char         *message;  /* the error, or the job id on success */
} OddNewJob;

typedef struct
{
  char         *id;
  OddJob       *job;          /* GET /jobs/{id}, with its timeline */
  char         *error;
  char         *flash;        /* the retry's outcome */
  gboolean      flash_error;
  gboolean      loading;
  gboolean      retrying;
  int           scroll;
} OddDetail;

typedef struct
{
  char *id;
  char *name;
  char *emoji;
  char *description;
  char *url;
} OddUiEntry;

typedef enum
{
  ODD_OP_NONE,
  ODD_OP_STACK_UP,
  ODD_OP_CLUSTER_UP,
  ODD_OP_STACK_DOWN,
} OddOp;

typedef struct _OddDash OddDash;

struct _OddDash
{
  /* options */
  guint          interval_ms;
  gboolean       once;
  gboolean       no_color;
  const char    *program;

  /* lifecycle */
  GMainLoop     *loop;
  int            exit_code;
  gboolean       quitting;
  GCancellable  *cancellable;
  GPtrArray     *sources;     /* guint ids of the timers and watches */

  /* terminal (odd-dashboard-term.c) */
  gboolean       term_active;
  OddGrid       *grid;
  guint          stdin_id;    /* the terminal's input watch; 0 once the terminal is gone */
  guint          redraw_id;
  guint          animation_id;
  guint          frame;
  char          *frame_log;   /* $ODD_DASHBOARD_FRAME_LOG: the bench's first-frame stamp */

  /* endpoints: the client's, with their URLs at hand for drawing */
  char          *read_model_url;
  char          *gateway_url;
  OddEndpointsSource endpoints;

  /* screen */
  OddScreen      screen;
  OddScreen      back;        /* where Esc returns from doctor/prereq */
  char          *flash;       /* one-line feedback under the screen */
  gboolean       flash_error;

  /* polling (odd-dashboard-client.c) */
  OddClient     *client;
  guint          poll_id;
  guint          pending;
  gboolean       first_poll_done;
  gboolean       reachable;
  char          *poll_error;
  gint64         last_update;  /* g_get_real_time of the last good /stats */
  OddStats      *stats;        /* NULL until the first good /stats */
  OddSeries     *series;       /* NULL until the first good /stats/series */
  GPtrArray     *queues;       /* OddQueue */
  GPtrArray     *jobs;         /* OddJob */
  GPtrArray     *alerts;       /* OddAlert */
  char          *alerts_error;
  int            selected;     /* row of jobs */

  /* screens with state of their own */
  OddNewJob      new_job;
  OddDetail      detail;

  GPtrArray     *uis;          /* OddUiEntry */
  int            ui_selected;
  char          *ui_message;
  gboolean       ui_message_error;

  /* launcher / progress / shutdown (odd-dashboard-launcher.c) */
  OddOp          op;
  GCancellable  *op_cancellable;
  GPtrArray     *log;          /* char *, the progress lines */
  char          *op_step;
  double         op_fraction;
  gint64         op_started;
  gboolean       op_done;
  char          *op_error;
  GPtrArray     *op_remedy;    /* char *, remediation lines of a failed cluster step */
  OddLocalStack *stack;
  GObject       *cluster;      /* OddCluster, once K was pressed */

  /* doctor and prerequisite setup (odd-dashboard-prereq.c) */
  OddDoctor       *doctor;
  OddDoctorReport *report;
  gboolean         doctor_running;
  int              prereq_selected;
  GSubprocess     *child;
  char            *child_command;
  GPtrArray       *child_output;  /* char * */
};

/* odd-dashboard-app.c */
OddDash    *odd_dash_new                (void);
void        odd_dash_free               (OddDash        *dash);
/* READ_MODEL_URL / GATEWAY_URL, else the running local stack, else the defaults
 * (odd_endpoints_discover()). */
void        odd_dash_resolve_endpoints  (OddDash        *dash);
void        odd_dash_set_endpoints      (OddDash        *dash,
                                         const char     *read_model_url,
                                         const char     *gateway_url,
                                         OddEndpointsSource source);
void        odd_dash_use_endpoints      (OddDash        *dash,
                                         OddEndpoints   *endpoints);
void        odd_dash_set_screen         (OddDash        *dash,
                                         OddScreen       screen);
void        odd_dash_set_flash          (OddDash        *dash,
                                         gboolean        error,
                                         const char     *format,
                                         ...) G_GNUC_PRINTF (3, 4);
/* Ends the main loop (after what is running was cancelled). */
void        odd_dash_quit               (OddDash        *dash,
                                         int             exit_code);
void        odd_dash_queue_redraw       (OddDash        *dash);
/* Runs the interactive dashboard; returns the exit code. */
int         odd_dash_run                (OddDash        *dash);
/* Polls once, waits for the answers (at most a few seconds), renders one frame of
 * @rows x @cols and returns it as text. */
char       *odd_dash_render_once        (OddDash        *dash,
                                         int             rows,
                                         int             cols);

/* odd-dashboard-cli.c */
int         odd_dash_main               (int             argc,
                                         char          **argv);

/* odd-dashboard-term.c */
gboolean    odd_dash_term_start         (OddDash        *dash,
                                         GError        **error);
void        odd_dash_term_stop          (OddDash        *dash);
/* Copies the grid to the terminal. */
void        odd_dash_term_flush         (OddDash        *dash);
/* Reads the window size after SIGWINCH and resizes ncurses and the grid. */
void        odd_dash_term_resize        (OddDash        *dash);
/* Reads every pending key and hands it to odd_dash_handle_key(). */
void        odd_dash_term_read_keys     (OddDash        *dash);
/* Puts @text on the clipboard with OSC 52 (terminals, SSH, tmux). */
void        odd_dash_term_osc52         (OddDash        *dash,
                                         const char     *text);

/* odd-dashboard-render.c */
void        odd_dash_render             (OddDash        *dash,
                                         OddGrid        *grid);
void        odd_dash_render_help_bar    (OddDash        *dash,
                                         OddGrid        *grid,
                                         const char     *keys);
const char *odd_dash_spinner            (OddDash        *dash,
                                         OddGrid        *grid);
OddColor    odd_dash_status_color       (const char     *status);
void        odd_dash_render_centered    (OddGrid        *grid,
                                         int             y,
                                         OddColor        color,
                                         OddAttr         attrs,
                                         const char     *text);
/* @text over at most @max_rows rows of @width, broken at spaces; returns the rows used. */
int         odd_dash_render_wrapped     (OddGrid        *grid,
                                         int             y,
                                         int             x,
                                         int             width,
                                         int             max_rows,
                                         OddColor        color,
                                         OddAttr         attrs,
                                         const char     *text);
void        odd_dash_render_logo        (OddGrid        *grid,
                                         int             y);
/* Draws a centred box for a modal and returns its top-left corner. */
void        odd_dash_render_modal       (OddGrid        *grid,
                                         int             height,
                                         int             width,
                                         OddColor        color,
                                         const char     *title,
                                         int            *y,
                                         int            *x);

/* odd-dashboard-render-dashboard.c */
void        odd_dash_render_dashboard   (OddDash        *dash,
                                         OddGrid        *grid);

/* odd-dashboard-input.c */
/* @key: an ncurses key code (KEY_*) or a character; @is_char tells which. */
void        odd_dash_handle_key         (OddDash        *dash,
                                         int             key,
                                         gboolean        is_char);

/* odd-dashboard-client.c */
void        odd_dash_client_init        (OddDash        *dash);
/* Starts a poll unless one is in flight. */
void        odd_dash_poll               (OddDash        *dash);
void        odd_dash_start_polling      (OddDash        *dash);
void        odd_dash_stop_polling       (OddDash        *dash);
/* What a failed OddClient call says in one line: the server's "error", or the transport's
 * message. */
const char *odd_dash_error_reason       (const GError   *error);

/* odd-dashboard-newjob.c */
void        odd_dash_new_job_open       (OddDash        *dash);
void        odd_dash_new_job_key        (OddDash        *dash,
                                         int             key,
                                         gboolean        is_char);
void        odd_dash_new_job_render     (OddDash        *dash,
                                         OddGrid        *grid);
void        odd_dash_new_job_clear      (OddDash        *dash);
/* Reference 6.8 validation of the trimmed job type; NULL when valid, else the message. */
const char *odd_dash_validate_job_type  (const char     *type);
/* The optional numbers; FALSE with the message in @error_text. */
gboolean    odd_dash_parse_simulation   (const char     *duration,
                                         const char     *fail_rate,
                                         gint64         *duration_ms,
                                         double         *rate,
                                         const char    **error_text);

/* odd-dashboard-detail.c */
void        odd_dash_detail_open        (OddDash        *dash,
                                         const char     *job_id);
void        odd_dash_detail_refresh     (OddDash        *dash);
void        odd_dash_detail_key         (OddDash        *dash,
                                         int             key,
                                         gboolean        is_char);
void        odd_dash_detail_render      (OddDash        *dash,
                                         OddGrid        *grid);
void        odd_dash_detail_clear       (OddDash        *dash);

/* odd-dashboard-launcher.c */
void        odd_dash_launcher_render    (OddDash        *dash,
                                         OddGrid        *grid);
void        odd_dash_launcher_key       (OddDash        *dash,
                                         int             key,
                                         gboolean        is_char);
void        odd_dash_start_local_stack  (OddDash        *dash);
void        odd_dash_start_cluster      (OddDash        *dash);
/* Ctrl+Q: stops the stack this dashboard shows, when it is the local stack. */
void        odd_dash_shutdown           (OddDash        *dash);
void        odd_dash_progress_render    (OddDash        *dash,
                                         OddGrid        *grid);
void        odd_dash_progress_key       (OddDash        *dash,
                                         int             key,
                                         gboolean        is_char);

/* odd-dashboard-prereq.c */
void        odd_dash_doctor_start       (OddDash        *dash);
void        odd_dash_doctor_render      (OddDash        *dash,
                                         OddGrid        *grid);
void        odd_dash_doctor_key         (OddDash        *dash,
                                         int             key,
                                         gboolean        is_char);
void        odd_dash_prereq_render      (OddDash        *dash,
                                         OddGrid        *grid);
void        odd_dash_prereq_key         (OddDash        *dash,
                                         int             key,
                                         gboolean        is_char);
/* The checks that are not ok and have a fix, in report order. */
GPtrArray  *odd_dash_prereq_fixable     (OddDash        *dash);
void        odd_dash_copy_to_clipboard  (OddDash        *dash,
                                         const char     *text);

/* odd-dashboard-uis.c */
void        odd_dash_uis_open           (OddDash        *dash);
void        odd_dash_uis_key            (OddDash        *dash,
                                         int             key,
                                         gboolean        is_char);
void        odd_dash_uis_render         (OddDash        *dash,
                                         OddGrid        *grid);
/* Loads contracts/ui-registry.json; entries on the reference ports 3000 and 8080 point at
 * the gateway and read model in use. */
GPtrArray  *odd_dash_uis_load           (OddDash        *dash,
                                         const char     *path,
                                         GError        **error);
/* NULL when a browser may be opened here, else why not (SSH, no display) with the URL. */
char       *odd_dash_uis_restriction    (const char     *url);
void        odd_ui_entry_free           (OddUiEntry     *entry);

/* odd-dashboard-app.c: appends to a bounded log (progress, child output) */
void        odd_dash_log_append         (GPtrArray      *log,
                                         const char     *line);

G_END_DECLS
