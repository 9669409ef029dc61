/*
 * The HTML page and the /server-status section over a snapshot whose
 * strings and counts come from the fuzz bytes. Whatever the strings hold,
 * the markup is only the page's own: every '<' opens one of its tags, text
 * has no raw '>', quote or control byte and only the five entities, tags
 * balance, and each shown file and URI appears in its escaped form.
 */
#include <string.h>

#include "ew_escape.h"
#include "fuzz_support.h"

static const char *const tags[] = {
    "html",       "head", "meta", "title", "style",  "body", "h1",   "h2",     "table", "tr",
    "th",         "td",   "p",    "a",     "hr",     "br",   "nav",  "strong", "div",   "figure",
    "figcaption", "svg",  "rect", "line",  "circle", "text", "time", "ul",     "li",    "span"};
/* Elements without a closing tag. */
static int is_void(const char *tag)
{
    return strcmp(tag, "meta") == 0 || strcmp(tag, "hr") == 0 || strcmp(tag, "br") == 0;
}
#define NTAGS (sizeof(tags) / sizeof(tags[0]))

static int is_lower_or_digit(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* Walks the document; counts[k] is opened minus closed tags[k]. */
static void check_markup(const char *doc)
{
    long counts[NTAGS] = {0};
    const char *p = doc;
    if (strncmp(p, "<!DOCTYPE html>\n", 16) == 0) {
        p += 16;
    }
    while (*p != '\0') {
        unsigned char c = (unsigned char)*p;
        if (c == '&') {
            static const char *const entities[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&#39;"};
            size_t k = 0;
            while (k < 5 && strncmp(p, entities[k], strlen(entities[k])) != 0) {
                k++;
            }
            FZ_CHECK(k < 5, p);
            p += strlen(entities[k]);
            continue;
        }
        if (c != '<') {
            FZ_CHECK(c != '>' && c != '"' && c != '\'', p);
            FZ_CHECK(c >= 0x20 ? c != 0x7F : c == '\n' || c == '\t', p);
            p++;
            continue;
        }
        p++;
        int closing = *p == '/';
        p += closing;
        const char *name = p;
        while (is_lower_or_digit(*p)) {
            p++;
        }
        size_t k = 0;
        while (k < NTAGS && !(strlen(tags[k]) == (size_t)(p - name) &&
                              strncmp(tags[k], name, (size_t)(p - name)) == 0)) {
            k++;
        }
        FZ_CHECK(k < NTAGS, name);
        /* Attributes: name="value"; a value never holds a quote, '<', '>'
         * or a control byte (the page's values are its own, or escaped). */
        while (!closing && *p == ' ' && (is_lower_or_digit(p[1]) || (p[1] >= 'A' && p[1] <= 'Z'))) {
            p++;
            while (is_lower_or_digit(*p) || *p == '-' || (*p >= 'A' && *p <= 'Z')) {
                p++;
            }
            FZ_CHECK(p[0] == '=' && p[1] == '"', name);
            p += 2;
            while (*p != '"' && *p != '\0') {
                unsigned char v = (unsigned char)*p;
                FZ_CHECK(v != '<' && v != '>' && v >= 0x20 && v != 0x7F, name);
                p++;
            }
            FZ_CHECK(*p == '"', name);
            p++;
        }
        int self_closing = 0;
        if (!closing && p[0] == ' ' && p[1] == '/') {
            p += 2; /* <hr /> */
            self_closing = 1;
        } else if (!closing && p[0] == '/') {
            p += 1; /* <rect .../> */
            self_closing = 1;
        }
        FZ_CHECK(*p == '>', name);
        p++;
        if (!is_void(tags[k]) && !self_closing) {
            counts[k] += closing ? -1 : 1;
            FZ_CHECK(counts[k] >= 0, name);
        }
    }
    for (size_t k = 0; k < NTAGS; k++) {
        FZ_CHECK(counts[k] == 0, tags[k]);
    }
}

/* <td class="cls">escaped</td> is in doc; with a note after the value (a
 * file's modification time, a failure's ids) when noted. */
static void check_cell_noted(apr_pool_t *p, const char *doc, const char *cls, const char *value,
                             int noted)
{
    ew_buf cell;
    ew_buf_init(&cell, p, 128);
    ew_buf_printf(&cell, "<td class=\"%s\">", cls);
    ew_escape_html(&cell, value);
    ew_buf_puts(&cell, noted ? "<span class=\"" : "</td>");
    FZ_CHECK(strstr(doc, cell.data) != NULL, cell.data);
}

static void check_cell(apr_pool_t *p, const char *doc, const char *cls, const char *value)
{
    ew_buf cell;
    ew_buf_init(&cell, p, 128);
    ew_buf_printf(&cell, "<td class=\"%s\">", cls);
    ew_escape_html(&cell, value);
    ew_buf_puts(&cell, "</td>");
    FZ_CHECK(strstr(doc, cell.data) != NULL, cell.data);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_reader r = {data, size};
    apr_pool_t *p = fz_begin();
    int with_files = fz_u8(&r) & 1;
    ew_snapshot snap;
    fz_snapshot(&r, p, &snap);

    ew_buf page;
    ew_buf_init(&page, p, 4096);
    ew_html_options opt = {fz_u8(&r) % 4 == 0 ? 0 : 1 + fz_u8(&r) % 3600, fz_u8(&r) & 1};
    ew_format_html_page(&page, &snap, &opt);
    FZ_CHECK(strlen(page.data) == page.len, page.data);
    check_markup(page.data);
    for (uint32_t i = 0; i < snap.files_len && i < EW_HTML_TOP_FILES; i++) {
        check_cell_noted(p, page.data, "mono", snap.files[i].file,
                         snap.files[i].script_mtime_us != EW_MTIME_UNREAD);
        /* A message with a backslash may hold a \n shown as a line break. */
        if (strchr(snap.files[i].message, '\\') == NULL) {
            check_cell(p, page.data, "msg", snap.files[i].message);
        }
    }
    for (uint32_t i = 0; i < snap.recent_len && i < EW_HTML_RECENT; i++) {
        const ew_failure *f = &snap.recent[i];
        check_cell_noted(p, page.data, "mono", f->uri,
                         f->unique_id[0] != '\0' || f->trace_id[0] != '\0' ||
                             f->dd_trace_id[0] != '\0');
    }
    for (uint32_t i = 0; i < snap.handlers_len; i++) {
        check_cell(p, page.data, "mono", snap.handlers[i].handler);
    }

    ew_buf section;
    ew_buf_init(&section, p, 1024);
    ew_format_html_section(&section, &snap, with_files);
    check_markup(section.data);
    for (uint32_t i = 0; with_files && i < snap.files_len && i < EW_HTML_SECTION_FILES; i++) {
        check_cell(p, section.data, "mono", snap.files[i].file);
    }
    fz_end(p);
    return 0;
}
