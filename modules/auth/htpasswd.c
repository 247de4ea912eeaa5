/* htpasswd.c - see htpasswd.h. */
#include "auto_config.h"

#include "auth/htpasswd.h"
#include "auth/htpasswd_int.h"

#include <apr_general.h>
#include <apr_md5.h>
#include <apr_sha1.h>
#include <crypt.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/basicheader.h"
#include "auth/filesnapshot.h"
#include "auth/hashgate.h"
#include "auth/htpasswd_parse.h"

_Static_assert(BASIC_MAX_USER == HTPASSWD_MAX_USER && BASIC_MAX_PASSWORD == HTPASSWD_MAX_PASSWORD,
               "every credential the header parser accepts can be checked");

#define STR_(x) #x
#define STR(x) STR_(x)

/* bcrypt reads only the first 72 bytes of a password (and libxcrypt refuses 512 or more). */
#define BCRYPT_KEY_BYTES 72

struct user {
    const char *name; /* NUL-terminated, in the table's arena */
    size_t name_len;
    const char *hash; /* NUL-terminated, in the table's arena */
    size_t hash_len;
    enum hash_kind kind;
    struct htpasswd_fingerprint fingerprint;
};

struct htpasswd_table {
    struct user *users; /* sorted by name (bytes, then length) */
    size_t n;
    char *arena;
    char dummy[HASH_MAX_LEN + 1];
    size_t dummy_len;
    enum hash_kind dummy_kind;

    /* The source, for htpasswd_reload. */
    char *path, *text_name, *entries_name;
    char **entries;
    size_t n_entries;
    bool from_text; /* and not from a file: nothing to reload */
    /* Of path, when it was read; the only part of a table that changes after load (its atomic
     * `racy`, in htpasswd_file_changed). */
    struct filesnapshot snap;
};

static bool initialized;
static unsigned char process_key[32];
static _Atomic uint64_t hashes_computed;

/* ---- process-wide setup ---- */

const char *htpasswd_global_init(void)
{
    if (initialized)
        return NULL;
    if (apr_initialize() != APR_SUCCESS)
        return "htpasswd: apr_initialize failed";
    if (RAND_bytes(process_key, sizeof(process_key)) != 1) {
        apr_terminate();
        return "htpasswd: no random bytes for the process key (RAND_bytes failed)";
    }
    initialized = true;
    return NULL;
}

void htpasswd_global_cleanup(void)
{
    if (!initialized)
        return;
    OPENSSL_cleanse(process_key, sizeof(process_key));
    initialized = false;
    apr_terminate();
}

/* ---- keyed hashes ---- */

static void put_len(unsigned char *p, size_t n)
{
    p[0] = (unsigned char)(n >> 24);
    p[1] = (unsigned char)(n >> 16);
    p[2] = (unsigned char)(n >> 8);
    p[3] = (unsigned char)n;
}

/*
 * HMAC-SHA256 under the process key of label, a and b, each part preceded by its length so that
 * no two inputs are alike. a and b are at most HTPASSWD_MAX_PASSWORD bytes each.
 */
static bool keyed_hash(const char *label, const char *a, size_t a_len, const char *b, size_t b_len,
                       unsigned char out[32])
{
    unsigned char msg[17 + 4 + HTPASSWD_MAX_PASSWORD + 4 + HTPASSWD_MAX_PASSWORD];
    size_t label_len = strlen(label);
    if (!initialized || label_len > 16 || a_len > HTPASSWD_MAX_PASSWORD ||
        b_len > HTPASSWD_MAX_PASSWORD)
        return false;
    size_t n = 0;
    memcpy(msg, label, label_len + 1); /* with its NUL: no label is the start of another */
    n += label_len + 1;
    put_len(msg + n, a_len);
    n += 4;
    memcpy(msg + n, a, a_len);
    n += a_len;
    put_len(msg + n, b_len);
    n += 4;
    memcpy(msg + n, b, b_len);
    n += b_len;
    unsigned int out_len = 0;
    bool ok = HMAC(EVP_sha256(), process_key, sizeof(process_key), msg, n, out, &out_len) != NULL &&
              out_len == 32;
    OPENSSL_cleanse(msg, n);
    return ok;
}

bool htpasswd_credential_key(const char *user, const char *password, struct htpasswd_key *out)
{
    size_t user_len = strnlen(user, HTPASSWD_MAX_USER + 1);
    size_t password_len = strnlen(password, HTPASSWD_MAX_PASSWORD + 1);
    if (user_len <= HTPASSWD_MAX_USER && password_len <= HTPASSWD_MAX_PASSWORD &&
        keyed_hash("credential", user, user_len, password, password_len, out->bytes))
        return true;
    memset(out, 0, sizeof(*out));
    return false;
}

/* ---- loading ---- */

static const char *fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static const char *fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return err;
}

/* Every entry seen so far, pointing into the text or the inline entries. */
struct pending_list {
    struct hash_entry *items;
    size_t n, cap;
};

/* Names the place of an entry in messages: "users.htpasswd:7", "authorizer.conf:12: entry 3". */
static void where(const struct htpasswd_source *src, const struct hash_entry *e, char *out,
                  size_t len)
{
    if (!e->is_inline)
        snprintf(out, len, "%s:%u", src->path ? src->path : src->text_name, e->line);
    else if (src->entries_name)
        snprintf(out, len, "%s: entry %u", src->entries_name, e->line);
    else
        snprintf(out, len, "inline entry %u", e->line);
}

static const char *add_entry(struct pending_list *l, const struct hash_entry *e)
{
    if (l->n == HTPASSWD_MAX_USERS)
        return "more than " STR(HTPASSWD_MAX_USERS) " users";
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        struct hash_entry *items = realloc(l->items, cap * sizeof(*items));
        if (!items)
            return "out of memory";
        l->items = items;
        l->cap = cap;
    }
    l->items[l->n++] = *e;
    return NULL;
}

/* Parses one line (file or inline) into the list; returns NULL or a message. */
static const char *take_line(const struct htpasswd_source *src, struct pending_list *l,
                             const char *line, size_t len, bool is_inline, unsigned number,
                             char *err, size_t errlen)
{
    struct hash_entry e = {.is_inline = is_inline, .line = number};
    const char *why = NULL;
    enum line_kind lk = htpasswd_parse_line(line, len, &e, &why);
    if (lk == LINE_ENTRY)
        why = add_entry(l, &e);
    else if (lk != LINE_ERROR && is_inline)
        why = "an inline entry cannot be blank or a comment";
    if (!why)
        return NULL;
    char at[512];
    where(src, &e, at, sizeof(at));
    if (e.name_ok)
        return fail(err, errlen, "%s: user \"%.*s\": %s", at, (int)e.name_len, e.name, why);
    return fail(err, errlen, "%s: %s", at, why);
}

static int compare_entries(const void *pa, const void *pb)
{
    const struct hash_entry *a = pa, *b = pb;
    size_t n = a->name_len < b->name_len ? a->name_len : b->name_len;
    int c = memcmp(a->name, b->name, n);
    if (c != 0)
        return c;
    if (a->name_len != b->name_len)
        return a->name_len < b->name_len ? -1 : 1;
    /* The same name: the file's lines first, then the inline entries, each in order. */
    if (a->is_inline != b->is_inline)
        return a->is_inline ? 1 : -1;
    return a->line < b->line ? -1 : a->line > b->line;
}

static bool same_name(const struct hash_entry *a, const struct hash_entry *b)
{
    return a->name_len == b->name_len && memcmp(a->name, b->name, a->name_len) == 0;
}

/*
 * The dummy hash: of the strongest kind in the list at its highest cost, with a random salt (or
 * a random checksum): checking against it runs the same computation as for a real user of that
 * kind, and no password matches it. With no users at all, bcrypt at htpasswd's default cost.
 */
static bool make_dummy(struct htpasswd_table *t, const struct pending_list *l)
{
    const struct hash_entry *strongest = NULL;
    for (size_t i = 0; i < l->n; i++) {
        const struct hash_entry *e = &l->items[i];
        if (!strongest || e->kind > strongest->kind ||
            (e->kind == strongest->kind && e->cost > strongest->cost))
            strongest = e;
    }
    struct hash_entry fallback = {.kind = HASH_BCRYPT, .cost = 5, .hash = "$2y$"};
    if (!strongest)
        strongest = &fallback;
    t->dummy_kind = strongest->kind;
    return htpasswd_make_dummy(strongest, t->dummy, sizeof(t->dummy), &t->dummy_len);
}

static char *dup_or_null(const char *s, bool *failed)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *failed = true;
    return d;
}

/* Copies the source into the table, for reloading. */
static bool keep_source(struct htpasswd_table *t, const struct htpasswd_source *src)
{
    bool failed = false;
    t->path = dup_or_null(src->path, &failed);
    t->text_name = dup_or_null(src->text_name, &failed);
    t->entries_name = dup_or_null(src->entries_name, &failed);
    if (src->n_entries > 0) {
        t->entries = calloc(src->n_entries, sizeof(*t->entries));
        if (!t->entries)
            return false;
        t->n_entries = src->n_entries;
        for (size_t i = 0; i < src->n_entries; i++)
            t->entries[i] = dup_or_null(src->entries[i], &failed);
    }
    return !failed;
}

/* Builds the table from the sorted, duplicate-free list. */
static const char *build(struct htpasswd_table *t, const struct pending_list *l, char *err,
                         size_t errlen)
{
    size_t bytes = 0;
    for (size_t i = 0; i < l->n; i++)
        bytes += l->items[i].name_len + 1 + l->items[i].hash_len + 1;
    t->arena = malloc(bytes ? bytes : 1);
    t->users = calloc(l->n ? l->n : 1, sizeof(*t->users));
    if (!t->arena || !t->users)
        return fail(err, errlen, "htpasswd: out of memory");
    char *p = t->arena;
    for (size_t i = 0; i < l->n; i++) {
        const struct hash_entry *e = &l->items[i];
        struct user *u = &t->users[i];
        memcpy(p, e->name, e->name_len);
        p[e->name_len] = '\0';
        u->name = p;
        u->name_len = e->name_len;
        p += e->name_len + 1;
        memcpy(p, e->hash, e->hash_len);
        p[e->hash_len] = '\0';
        u->hash = p;
        u->hash_len = e->hash_len;
        p += e->hash_len + 1;
        u->kind = e->kind;
        if (!keyed_hash("line", u->name, u->name_len, u->hash, u->hash_len, u->fingerprint.bytes))
            return fail(err, errlen, "htpasswd: HMAC failed");
    }
    t->n = l->n;
    if (!make_dummy(t, l))
        return fail(err, errlen, "htpasswd: cannot make the dummy hash (random bytes or salt)");
    return NULL;
}

/* Every line of the text, then every inline entry, into the list. */
static const char *collect(const struct htpasswd_source *named, const char *text, size_t text_len,
                           struct pending_list *list, char *err, size_t errlen)
{
    const char *msg = NULL;
    unsigned line_no = 0;
    for (size_t pos = 0; !msg && text && pos < text_len;) {
        const char *nl = memchr(text + pos, '\n', text_len - pos);
        size_t end = nl ? (size_t)(nl - text) : text_len;
        msg = take_line(named, list, text + pos, end - pos, false, ++line_no, err, errlen);
        pos = end + 1;
    }
    for (size_t i = 0; !msg && i < named->n_entries; i++) {
        const char *e = named->entries[i];
        msg = take_line(named, list, e, strlen(e), true, (unsigned)i + 1, err, errlen);
    }
    return msg;
}

/* Sorts the list by name and refuses a name seen twice. */
static const char *sort_unique(const struct htpasswd_source *named, struct pending_list *list,
                               char *err, size_t errlen)
{
    if (list->n > 1)
        qsort(list->items, list->n, sizeof(*list->items), compare_entries);
    for (size_t i = 1; i < list->n; i++) {
        const struct hash_entry *first = &list->items[i - 1], *again = &list->items[i];
        if (same_name(first, again)) {
            char at_first[512], at_again[512];
            where(named, first, at_first, sizeof(at_first));
            where(named, again, at_again, sizeof(at_again));
            return fail(err, errlen, "%s: user \"%.*s\" again (first at %s)", at_again,
                        (int)again->name_len, again->name, at_first);
        }
    }
    return NULL;
}

const char *htpasswd_load(const struct htpasswd_source *src, struct htpasswd_table **out, char *err,
                          size_t errlen)
{
    const char *msg = NULL;
    char *file_text = NULL;
    size_t file_len = 0;
    struct pending_list list = {0};
    struct htpasswd_table *t = NULL;
    *out = NULL;

    if (!initialized)
        return fail(err, errlen, "htpasswd: htpasswd_global_init was not called");
    if (src->path && src->text)
        return fail(err, errlen, "htpasswd: both a path and a text given");
    t = calloc(1, sizeof(*t));
    if (!t)
        return fail(err, errlen, "htpasswd: out of memory");
    t->from_text = src->text != NULL;

    struct htpasswd_source named = *src;
    named.text_name = src->path ? src->path : src->text_name ? src->text_name : "(text)";
    const char *text = src->text;
    size_t text_len = src->text_len;
    if (src->path) {
        msg = filesnapshot_read(src->path, HTPASSWD_MAX_FILE, &file_text, &file_len, &t->snap, err,
                                errlen);
        if (msg)
            goto end;
        text = file_text;
        text_len = file_len;
    } else if (text && text_len > HTPASSWD_MAX_FILE) {
        msg = fail(err, errlen, "%s: larger than %d bytes", named.text_name, HTPASSWD_MAX_FILE);
        goto end;
    }

    msg = collect(&named, text, text_len, &list, err, errlen);
    if (!msg)
        msg = sort_unique(&named, &list, err, errlen);
    if (!msg)
        msg = build(t, &list, err, errlen);
    if (!msg && !keep_source(t, &named))
        msg = fail(err, errlen, "htpasswd: out of memory");
    if (!msg) {
        *out = t;
        t = NULL;
    }

end:
    free(list.items);
    filesnapshot_free_text(file_text, file_len);
    htpasswd_table_free(t);
    return msg;
}

const char *htpasswd_reload(const struct htpasswd_table *old, struct htpasswd_table **out,
                            char *err, size_t errlen)
{
    *out = NULL;
    if (old->from_text)
        return fail(err, errlen, "%s: loaded from text, there is no file to read again",
                    old->text_name);
    struct htpasswd_source src = {.path = old->path,
                                  .entries = (const char *const *)old->entries,
                                  .n_entries = old->n_entries,
                                  .entries_name = old->entries_name};
    return htpasswd_load(&src, out, err, errlen);
}

void htpasswd_table_free(struct htpasswd_table *t)
{
    if (!t)
        return;
    free(t->users);
    free(t->arena);
    free(t->path);
    free(t->text_name);
    free(t->entries_name);
    for (size_t i = 0; i < t->n_entries; i++)
        free(t->entries[i]);
    free(t->entries);
    free(t);
}

size_t htpasswd_count(const struct htpasswd_table *t)
{
    return t->n;
}

bool htpasswd_file_changed(const struct htpasswd_table *t)
{
    /* The snapshot's `racy` is atomic and may change under a const table. */
    return t->path &&
           filesnapshot_changed(t->path, HTPASSWD_MAX_FILE, (struct filesnapshot *)&t->snap);
}

/* ---- checking ---- */

static const struct user *find(const struct htpasswd_table *t, const char *name, size_t len)
{
    size_t lo = 0, hi = t->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct user *u = &t->users[mid];
        size_t n = len < u->name_len ? len : u->name_len;
        int c = memcmp(name, u->name, n);
        if (c == 0 && len != u->name_len)
            c = len < u->name_len ? -1 : 1;
        if (c == 0)
            return u;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

static bool equal_hash(const char *computed, const char *stored, size_t stored_len)
{
    return strnlen(computed, stored_len + 1) == stored_len &&
           CRYPTO_memcmp(computed, stored, stored_len) == 0;
}

/* Through libxcrypt: 1 if the password matches, 0 if not, -1 if the library failed. */
static int check_crypt(enum hash_kind kind, const char *hash, size_t hash_len, const char *password,
                       size_t password_len)
{
    struct crypt_data data;
    char phrase[HTPASSWD_MAX_PASSWORD + 1];
    memset(&data, 0, sizeof(data));
    if (kind == HASH_BCRYPT && password_len > BCRYPT_KEY_BYTES)
        password_len = BCRYPT_KEY_BYTES;
    memcpy(phrase, password, password_len);
    phrase[password_len] = '\0';

    int result;
    errno = 0;
    const char *computed = crypt_rn(phrase, hash, &data, sizeof(data));
    if (computed) {
        atomic_fetch_add_explicit(&hashes_computed, 1, memory_order_relaxed);
        result = equal_hash(computed, hash, hash_len);
    } else {
        /* SHA-crypt passwords of 512 bytes or more: libxcrypt cannot have made such a hash. */
        result = errno == ERANGE ? 0 : -1;
    }
    OPENSSL_cleanse(phrase, sizeof(phrase));
    OPENSSL_cleanse(&data, sizeof(data));
    return result;
}

/* Through apr-util, which has the only implementations of these two: 1, 0 or -1 like above. */
static int check_apr(enum hash_kind kind, const char *hash, size_t hash_len, const char *password,
                     size_t password_len)
{
    char computed[128];
    int result = 1;
    if (kind == HASH_APR1) {
        if (apr_md5_encode(password, hash, computed, sizeof(computed)) != APR_SUCCESS)
            result = -1;
    } else {
        apr_sha1_base64(password, (int)password_len, computed);
    }
    if (result == 1) {
        atomic_fetch_add_explicit(&hashes_computed, 1, memory_order_relaxed);
        result = equal_hash(computed, hash, hash_len);
    }
    OPENSSL_cleanse(computed, sizeof(computed));
    return result;
}

enum htpasswd_status htpasswd_verify(const struct htpasswd_table *t, const char *user,
                                     const char *password, struct hashgate *gate, long wait_ms)
{
    size_t user_len = strnlen(user, HTPASSWD_MAX_USER + 1);
    size_t password_len = strnlen(password, HTPASSWD_MAX_PASSWORD + 1);
    if (user_len > HTPASSWD_MAX_USER || password_len > HTPASSWD_MAX_PASSWORD)
        return HTPASSWD_TOO_LONG;

    const struct user *u = find(t, user, user_len);
    enum hash_kind kind = u ? u->kind : t->dummy_kind;
    const char *hash = u ? u->hash : t->dummy;
    size_t hash_len = u ? u->hash_len : t->dummy_len;

    bool slow = htpasswd_kind_is_slow(kind);
    if (slow && gate && !hashgate_enter(gate, wait_ms))
        return HTPASSWD_BUSY;
    int match = kind == HASH_APR1 || kind == HASH_SHA1
                    ? check_apr(kind, hash, hash_len, password, password_len)
                    : check_crypt(kind, hash, hash_len, password, password_len);
    if (slow && gate)
        hashgate_leave(gate);

    if (match < 0)
        return HTPASSWD_ERROR;
    if (!u)
        return HTPASSWD_UNKNOWN_USER;
    return match ? HTPASSWD_OK : HTPASSWD_WRONG_PASSWORD;
}

const char *htpasswd_status_name(enum htpasswd_status s)
{
    switch (s) {
    case HTPASSWD_OK:
        return "ok";
    case HTPASSWD_UNKNOWN_USER:
        return "unknown_user";
    case HTPASSWD_WRONG_PASSWORD:
        return "wrong_password";
    case HTPASSWD_BUSY:
        return "busy";
    case HTPASSWD_TOO_LONG:
        return "too_long";
    case HTPASSWD_ERROR:
        break;
    }
    return "error";
}

bool htpasswd_fingerprint(const struct htpasswd_table *t, const char *user,
                          struct htpasswd_fingerprint *out)
{
    size_t len = strnlen(user, HTPASSWD_MAX_USER + 1);
    const struct user *u = len <= HTPASSWD_MAX_USER ? find(t, user, len) : NULL;
    if (!u) {
        memset(out, 0, sizeof(*out));
        return false;
    }
    *out = u->fingerprint;
    return true;
}

/* ---- for the tests ---- */

const char *htpasswd_dummy_hash(const struct htpasswd_table *t)
{
    return t->dummy;
}

uint64_t htpasswd_hashes_computed(void)
{
    return atomic_load(&hashes_computed);
}
