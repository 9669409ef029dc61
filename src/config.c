/*
 * Directives and config merging. Every setter validates its value and
 * returns a message naming the directive, so httpd refuses a bad config at
 * start-up instead of running with a surprise. See docs/configuration.md.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "httpd.h"
#include "apr_strings.h"
#include "http_config.h"

#include "ew_module.h"

void *ew_create_server_conf(apr_pool_t *p, server_rec *s)
{
    (void)s;
    ew_server_conf *conf = apr_pcalloc(p, sizeof(*conf));
    conf->tail_max = UINT32_MAX;
    conf->tail_max_time = UINT32_MAX;
    conf->tail_keepalive = UINT32_MAX;
    conf->state_interval = UINT32_MAX;
    return conf;
}

void *ew_merge_server_conf(apr_pool_t *p, void *base_conf, void *add_conf)
{
    const ew_server_conf *base = base_conf;
    const ew_server_conf *add = add_conf;
    ew_server_conf *conf = apr_palloc(p, sizeof(*conf));
    conf->files = add->files ? add->files : base->files;
    conf->recent = add->recent ? add->recent : base->recent;
    conf->tail_max = add->tail_max != UINT32_MAX ? add->tail_max : base->tail_max;
    conf->tail_max_time =
        add->tail_max_time != UINT32_MAX ? add->tail_max_time : base->tail_max_time;
    conf->tail_keepalive =
        add->tail_keepalive != UINT32_MAX ? add->tail_keepalive : base->tail_keepalive;
    conf->state_file = add->state_file != NULL ? add->state_file : base->state_file;
    conf->state_interval =
        add->state_interval != UINT32_MAX ? add->state_interval : base->state_interval;
    return conf;
}

/* NOLINTNEXTLINE(readability-non-const-parameter): httpd's create_dir_config signature */
void *ew_create_dir_conf(apr_pool_t *p, char *dir)
{
    (void)dir;
    ew_dir_conf *conf = apr_palloc(p, sizeof(*conf));
    conf->enabled = EW_UNSET;
    conf->allow_remote = EW_UNSET;
    conf->query_string = EW_UNSET;
    conf->body_excerpt = EW_UNSET;
    return conf;
}

static int merge_flag(int base, int add)
{
    return add != EW_UNSET ? add : base;
}

void *ew_merge_dir_conf(apr_pool_t *p, void *base_conf, void *add_conf)
{
    const ew_dir_conf *base = base_conf;
    const ew_dir_conf *add = add_conf;
    ew_dir_conf *conf = apr_palloc(p, sizeof(*conf));
    conf->enabled = merge_flag(base->enabled, add->enabled);
    conf->allow_remote = merge_flag(base->allow_remote, add->allow_remote);
    conf->query_string = merge_flag(base->query_string, add->query_string);
    conf->body_excerpt = merge_flag(base->body_excerpt, add->body_excerpt);
    return conf;
}

uint32_t ew_conf_files(const server_rec *s)
{
    const ew_server_conf *conf = ap_get_module_config(s->module_config, &errwatch_module);
    return conf->files ? conf->files : EW_FILES_DEFAULT;
}

uint32_t ew_conf_recent(const server_rec *s)
{
    const ew_server_conf *conf = ap_get_module_config(s->module_config, &errwatch_module);
    return conf->recent ? conf->recent : EW_RECENT_DEFAULT;
}

static const ew_server_conf *server_conf(const server_rec *s)
{
    return ap_get_module_config(s->module_config, &errwatch_module);
}

uint32_t ew_conf_tail_max(const server_rec *s)
{
    uint32_t v = server_conf(s)->tail_max;
    return v != UINT32_MAX ? v : EW_TAIL_MAX_DEFAULT;
}

uint32_t ew_conf_tail_max_time(const server_rec *s)
{
    uint32_t v = server_conf(s)->tail_max_time;
    return v != UINT32_MAX ? v : EW_TAIL_MAX_TIME_DEFAULT;
}

uint32_t ew_conf_tail_keepalive(const server_rec *s)
{
    uint32_t v = server_conf(s)->tail_keepalive;
    return v != UINT32_MAX ? v : EW_TAIL_KEEPALIVE_DEFAULT;
}

const char *ew_conf_state_file(apr_pool_t *p, const server_rec *s)
{
    const char *v = server_conf(s)->state_file;
    if (v == NULL) {
        return ap_runtime_dir_relative(p, EW_STATE_FILE_DEFAULT);
    }
    return v[0] != '\0' ? ap_runtime_dir_relative(p, v) : NULL;
}

uint32_t ew_conf_state_interval(const server_rec *s)
{
    uint32_t v = server_conf(s)->state_interval;
    return v != UINT32_MAX ? v : EW_STATE_INTERVAL_DEFAULT;
}

/* A whole decimal number in [min, max]; anything else is refused. */
static const char *parse_count(cmd_parms *cmd, const char *arg, uint32_t min, uint32_t max,
                               uint32_t *out)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    if (err != NULL) {
        return err;
    }
    /* Digits only: strtoll alone would also take " 5", "+5" and "5 ". */
    int digits = arg[0] != '\0' && strspn(arg, "0123456789") == strlen(arg);
    errno = 0;
    long long v = digits ? strtoll(arg, NULL, 10) : -1;
    if (!digits || errno != 0 || v < (long long)min || v > (long long)max) {
        return apr_psprintf(cmd->pool, "%s must be a whole number from %u to %u, not '%s'",
                            cmd->cmd->name, min, max, arg);
    }
    *out = (uint32_t)v;
    return NULL;
}

static const char *set_files(cmd_parms *cmd, void *dconf, const char *arg)
{
    (void)dconf;
    ew_server_conf *conf = ap_get_module_config(cmd->server->module_config, &errwatch_module);
    return parse_count(cmd, arg, EW_FILES_MIN, EW_FILES_MAX, &conf->files);
}

static const char *set_recent(cmd_parms *cmd, void *dconf, const char *arg)
{
    (void)dconf;
    ew_server_conf *conf = ap_get_module_config(cmd->server->module_config, &errwatch_module);
    return parse_count(cmd, arg, EW_RECENT_MIN, EW_RECENT_MAX, &conf->recent);
}

static const char *set_tail_max(cmd_parms *cmd, void *dconf, const char *arg)
{
    (void)dconf;
    ew_server_conf *conf = ap_get_module_config(cmd->server->module_config, &errwatch_module);
    return parse_count(cmd, arg, 0, EW_TAIL_SLOTS, &conf->tail_max);
}

static const char *set_tail_max_time(cmd_parms *cmd, void *dconf, const char *arg)
{
    (void)dconf;
    ew_server_conf *conf = ap_get_module_config(cmd->server->module_config, &errwatch_module);
    return parse_count(cmd, arg, 1, EW_TAIL_MAX_TIME_LIMIT, &conf->tail_max_time);
}

static const char *set_tail_keepalive(cmd_parms *cmd, void *dconf, const char *arg)
{
    (void)dconf;
    ew_server_conf *conf = ap_get_module_config(cmd->server->module_config, &errwatch_module);
    return parse_count(cmd, arg, 1, EW_TAIL_KEEPALIVE_LIMIT, &conf->tail_keepalive);
}

static const char *set_state_file(cmd_parms *cmd, void *dconf, const char *arg)
{
    (void)dconf;
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    if (err != NULL) {
        return err;
    }
    ew_server_conf *conf = ap_get_module_config(cmd->server->module_config, &errwatch_module);
    if (strcasecmp(arg, "none") == 0) {
        conf->state_file = "";
        return NULL;
    }
    if (arg[0] == '\0' || ap_runtime_dir_relative(cmd->pool, arg) == NULL) {
        return apr_psprintf(cmd->pool, "ErrWatchStateFile: '%s' is not a usable path", arg);
    }
    /* Resolved at start-up: DefaultRuntimeDir may come later in the file. */
    conf->state_file = arg;
    return NULL;
}

static const char *set_state_interval(cmd_parms *cmd, void *dconf, const char *arg)
{
    (void)dconf;
    ew_server_conf *conf = ap_get_module_config(cmd->server->module_config, &errwatch_module);
    return parse_count(cmd, arg, 1, EW_STATE_INTERVAL_LIMIT, &conf->state_interval);
}

static const char *set_enabled(cmd_parms *cmd, void *dconf, int flag)
{
    (void)cmd;
    ((ew_dir_conf *)dconf)->enabled = flag;
    return NULL;
}

static const char *set_allow_remote(cmd_parms *cmd, void *dconf, int flag)
{
    (void)cmd;
    ((ew_dir_conf *)dconf)->allow_remote = flag;
    return NULL;
}

static const char *set_query_string(cmd_parms *cmd, void *dconf, int flag)
{
    (void)cmd;
    ((ew_dir_conf *)dconf)->query_string = flag;
    return NULL;
}

static const char *set_body_excerpt(cmd_parms *cmd, void *dconf, int flag)
{
    (void)cmd;
    ((ew_dir_conf *)dconf)->body_excerpt = flag;
    return NULL;
}

/* AP_INIT_FLAG makes httpd itself refuse anything but On/Off, with the
 * directive's name in the message. */
const command_rec ew_directives[] = {
    AP_INIT_FLAG("ErrWatch", set_enabled, NULL, RSRC_CONF | ACCESS_CONF,
                 "On|Off: count and record requests in this context (default On)"),
    AP_INIT_TAKE1("ErrWatchFiles", set_files, NULL, RSRC_CONF,
                  "Capacity of the failing-file table (default 1024)"),
    AP_INIT_TAKE1("ErrWatchRecent", set_recent, NULL, RSRC_CONF,
                  "Capacity of the recent-failures ring (default 256)"),
    AP_INIT_FLAG("ErrWatchAllowRemote", set_allow_remote, NULL, RSRC_CONF | ACCESS_CONF,
                 "On|Off: let the status handler answer non-loopback clients (default Off)"),
    AP_INIT_FLAG("ErrWatchQueryString", set_query_string, NULL, RSRC_CONF | ACCESS_CONF,
                 "On|Off: keep the query string in recorded URIs (default Off)"),
    AP_INIT_FLAG("ErrWatchBodyExcerpt", set_body_excerpt, NULL, RSRC_CONF | ACCESS_CONF | OR_ALL,
                 "On|Off: a 5xx that logged nothing keeps the visible text of its page, up to "
                 "200 bytes (default On)"),
    AP_INIT_TAKE1("ErrWatchTailMax", set_tail_max, NULL, RSRC_CONF,
                  "Live tails (?tail) open at once, server-wide; 0 turns ?tail off (default 4)"),
    AP_INIT_TAKE1("ErrWatchTailMaxTime", set_tail_max_time, NULL, RSRC_CONF,
                  "Seconds a live tail may stay open (default 600)"),
    AP_INIT_TAKE1("ErrWatchTailKeepAlive", set_tail_keepalive, NULL, RSRC_CONF,
                  "Seconds between keep-alive lines of an idle live tail (default 15)"),
    AP_INIT_TAKE1("ErrWatchStateFile", set_state_file, NULL, RSRC_CONF,
                  "path|none: where the parent keeps the evidence across a stop and start "
                  "(default errwatch.state in DefaultRuntimeDir)"),
    AP_INIT_TAKE1("ErrWatchStateInterval", set_state_interval, NULL, RSRC_CONF,
                  "Seconds between writes of the state file when something changed (default 10)"),
    {NULL},
};
