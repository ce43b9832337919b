/*
 * store.c: committed revisions in SQLite (WAL). A commit, with its template
 * id assignments, is one transaction: a crash leaves the old revision or
 * the new one, never half of one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cfgd.h"
#include "conf.h"
#include "log.h"
#include "util.h"

static const char *schema =
    "CREATE TABLE IF NOT EXISTS revisions ("
    " id INTEGER PRIMARY KEY, time INTEGER NOT NULL, author TEXT NOT NULL,"
    " comment TEXT NOT NULL, source_path TEXT NOT NULL,"
    " source TEXT NOT NULL, plan BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS templates ("
    " key TEXT PRIMARY KEY, template_id INTEGER NOT NULL UNIQUE,"
    " first_revision INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS revision_templates ("
    " revision INTEGER NOT NULL REFERENCES revisions(id),"
    " record TEXT NOT NULL, template_id INTEGER NOT NULL,"
    " PRIMARY KEY (revision, record));";

/*
 * SQLite's word on the last failure, with the file's name; a damaged
 * file also gets the way out, for the operator reading it in a log.
 */
static int
db_error(struct store *st, char *err, size_t errlen)
{
	int code = sqlite3_errcode(st->db) & 0xff;

	snprintf(err, errlen, "%s: %s%s", st->path, sqlite3_errmsg(st->db),
	    code == SQLITE_CORRUPT || code == SQLITE_NOTADB ?
	    DAMAGED_WAY_OUT : "");
	return -1;
}

static int
exec(struct store *st, const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;

	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		int code = sqlite3_errcode(st->db) & 0xff;

		snprintf(err, errlen, "%s: %s%s", st->path,
		    msg ? msg : sqlite3_errmsg(st->db),
		    code == SQLITE_CORRUPT || code == SQLITE_NOTADB ?
		    DAMAGED_WAY_OUT : "");
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

/*
 * PRAGMA quick_check: a damaged file is found when cfgd starts, not
 * taken for an empty history (a failed read looks like no rows to a
 * careless caller). Its first complaint is named.
 */
static int
check_intact(struct store *st, char *err, size_t errlen)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(st->db, "PRAGMA quick_check(1)", -1, &s,
	    NULL) != SQLITE_OK)
		return db_error(st, err, errlen);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW &&
	    strcmp((const char *)sqlite3_column_text(s, 0), "ok") == 0) {
		sqlite3_finalize(s);
		return 0;
	}
	if (rc == SQLITE_ROW) {
		/* "*** in database main ***\nPage 3: ...": the last line */
		const char *what = (const char *)sqlite3_column_text(s, 0);
		const char *nl = strrchr(what, '\n');

		snprintf(err, errlen, "%s: %s (quick_check: %s)%s", st->path,
		    sqlite3_errstr(SQLITE_CORRUPT), nl ? nl + 1 : what,
		    DAMAGED_WAY_OUT);
	} else
		db_error(st, err, errlen);
	sqlite3_finalize(s);
	return -1;
}

int
store_open(struct store *st, const char *path, char *err, size_t errlen)
{
	struct stat sb;

	memset(st, 0, sizeof(*st));
	ns_strlcpy(st->path, path, sizeof(st->path));
	if (sqlite3_open_v2(path, &st->db,
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path,
		    st->db ? sqlite3_errmsg(st->db) : "cannot open");
		store_close(st);
		return -1;
	}
	if (stat(path, &sb) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		store_close(st);
		return -1;
	}
	st->dev = sb.st_dev;
	st->ino = sb.st_ino;
	sqlite3_busy_timeout(st->db, 2000);
	if (exec(st, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;",
	    err, errlen) == -1 ||
	    check_intact(st, err, errlen) == -1 ||
	    exec(st, schema, err, errlen) == -1) {
		store_close(st);
		return -1;
	}
	return 0;
}

void
store_close(struct store *st)
{
	if (st->db != NULL)
		sqlite3_close(st->db);
	st->db = NULL;
}

/*
 * Is the database path still the file we opened? Deleted, or replaced by
 * another file (a restore, a mv), a commit would go into a file nobody
 * will open again: refused, and cfgd must be restarted on the new file.
 */
int
store_same_file(struct store *st, char *err, size_t errlen)
{
	struct stat sb;

	if (stat(st->path, &sb) == -1) {
		snprintf(err, errlen, "%s: %s since cfgd opened it: it can "
		    "no longer keep revisions; restart cfgd (nothing was "
		    "committed)", st->path,
		    errno == ENOENT ? "deleted" : strerror(errno));
		return -1;
	}
	if (sb.st_dev != st->dev || sb.st_ino != st->ino) {
		snprintf(err, errlen, "%s: replaced by another file since cfgd "
		    "opened it; restart cfgd to use the new file (nothing was "
		    "committed)", st->path);
		return -1;
	}
	return 0;
}

/*
 * One integer (ids, all >= 0): dflt when there is no row or it is NULL,
 * -1 when SQLite failed (a failed step is an error, never "no rows").
 */
static int64_t
query_int(struct store *st, const char *sql, const char *arg, int64_t dflt)
{
	sqlite3_stmt *s;
	int64_t v = dflt;
	int rc;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return -1;
	if (arg != NULL)
		sqlite3_bind_text(s, 1, arg, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(s, 0);
	else if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		v = -1;
	sqlite3_finalize(s);
	return v;
}

static int
in_plan(const Netstream__Plan *plan, int64_t id)
{
	size_t i;

	for (i = 0; i < plan->n_records; i++)
		if (plan->records[i]->template_id == (uint32_t)id)
			return 1;
	return 0;
}

/*
 * An id to take back once all were given: the least recently used one
 * that no revision of the last TEMPLATE_REUSE_AFTER used, nor a record of
 * this plan; its old key is forgotten (that record, back one day, gets
 * an id of its own). 0 when there is none.
 */
static int64_t
reuse_template(struct store *st, const Netstream__Plan *plan, uint64_t rev)
{
	sqlite3_stmt *s;
	int64_t id = 0, cand;
	int rc;

	if (sqlite3_prepare_v2(st->db,
	    "SELECT t.template_id FROM templates t LEFT JOIN"
	    " (SELECT template_id, max(revision) AS last"
	    "  FROM revision_templates GROUP BY template_id) u"
	    " ON u.template_id = t.template_id"
	    " WHERE coalesce(u.last, 0) + ? <= ?"
	    " ORDER BY coalesce(u.last, 0), t.template_id", -1, &s,
	    NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(s, 1, TEMPLATE_REUSE_AFTER);
	sqlite3_bind_int64(s, 2, (int64_t)rev);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		cand = sqlite3_column_int64(s, 0);
		/* an id past the range (a database of an older cfgd) is not
		 * handed out again: exportd has its own there */
		if (cand <= TEMPLATE_ID_LAST && !in_plan(plan, cand)) {
			id = cand;
			break;
		}
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return -1;
	if (id > 0) {
		if (sqlite3_prepare_v2(st->db,
		    "DELETE FROM templates WHERE template_id = ?", -1, &s,
		    NULL) != SQLITE_OK)
			return -1;
		sqlite3_bind_int64(s, 1, id);
		if (sqlite3_step(s) != SQLITE_DONE)
			id = -1;
		sqlite3_finalize(s);
	}
	return id;
}

/* Same key, same id: an unchanged record keeps its template id. */
static int
assign_template(struct store *st, const Netstream__Plan *plan,
    Netstream__Record *r, uint64_t rev, char *err, size_t errlen)
{
	sqlite3_stmt *s;
	int64_t id;

	id = query_int(st, "SELECT template_id FROM templates WHERE key = ?",
	    r->key, 0);
	if (id == 0) {
		if ((id = query_int(st, "SELECT max(template_id) FROM "
		    "templates", NULL, TEMPLATE_ID_FIRST - 1)) < 0)
			goto fail;
		id++;
		if (id > TEMPLATE_ID_LAST &&
		    (id = reuse_template(st, plan, rev)) == 0) {
			snprintf(err, errlen, "no template id left: all %d "
			    "are held by records that ran in one of the last "
			    "%d revisions (an id is taken back only after "
			    "that): commit with fewer new records",
			    TEMPLATE_ID_LAST - TEMPLATE_ID_FIRST + 1,
			    TEMPLATE_REUSE_AFTER);
			return -1;
		}
		if (id < 0)
			goto fail;
		if (sqlite3_prepare_v2(st->db,
		    "INSERT INTO templates (key, template_id, first_revision)"
		    " VALUES (?, ?, ?)", -1, &s, NULL) != SQLITE_OK)
			goto fail;
		sqlite3_bind_text(s, 1, r->key, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, id);
		sqlite3_bind_int64(s, 3, (int64_t)rev);
		if (sqlite3_step(s) != SQLITE_DONE) {
			sqlite3_finalize(s);
			goto fail;
		}
		sqlite3_finalize(s);
	}
	if (id < 0)
		goto fail;
	r->template_id = (uint32_t)id;
	return 0;
fail:
	return db_error(st, err, errlen);
}

static int
insert_revision(struct store *st, Netstream__Plan *plan, const char *source,
    const char *author, const char *comment, char *err, size_t errlen)
{
	sqlite3_stmt *s = NULL;
	uint8_t *blob;
	size_t len, i;
	int rc;

	len = netstream__plan__get_packed_size(plan);
	blob = xmalloc(len);
	netstream__plan__pack(plan, blob);
	rc = sqlite3_prepare_v2(st->db,
	    "INSERT INTO revisions (id, time, author, comment, source_path,"
	    " source, plan) VALUES (?, ?, ?, ?, ?, ?, ?)", -1, &s, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(s, 1, (int64_t)plan->revision);
		sqlite3_bind_int64(s, 2, (int64_t)time(NULL));
		sqlite3_bind_text(s, 3, author, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 4, comment, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 5, plan->source_path, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 6, source, -1, SQLITE_STATIC);
		sqlite3_bind_blob(s, 7, blob, (int)len, SQLITE_STATIC);
		rc = sqlite3_step(s) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
	}
	sqlite3_finalize(s);
	free(blob);
	for (i = 0; rc == SQLITE_OK && i < plan->n_records; i++) {
		rc = sqlite3_prepare_v2(st->db,
		    "INSERT INTO revision_templates (revision, record,"
		    " template_id) VALUES (?, ?, ?)", -1, &s, NULL);
		if (rc != SQLITE_OK)
			break;
		sqlite3_bind_int64(s, 1, (int64_t)plan->revision);
		sqlite3_bind_text(s, 2, plan->records[i]->name, -1,
		    SQLITE_STATIC);
		sqlite3_bind_int64(s, 3, plan->records[i]->template_id);
		rc = sqlite3_step(s) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
		sqlite3_finalize(s);
	}
	if (rc != SQLITE_OK)
		return db_error(st, err, errlen);
	return 0;
}

/*
 * Stores plan as the next revision: numbers it (its generation is the
 * revision, or min_gen when that is higher: generations on the bus never
 * go back, whatever happened to this file), gives its records their
 * template ids, all in one transaction. On error nothing is stored and
 * plan's numbers are left as they were.
 */
int
store_commit(struct store *st, Netstream__Plan *plan, uint64_t min_gen,
    const char *source, const char *author, const char *comment, char *err,
    size_t errlen)
{
	uint64_t old_rev = plan->revision, old_gen = plan->generation;
	int64_t rev;
	size_t i;

	if (store_same_file(st, err, errlen) == -1)
		return -1;
	if (exec(st, "BEGIN IMMEDIATE", err, errlen) == -1)
		return -1;
	rev = query_int(st, "SELECT max(id) FROM revisions", NULL, 0);
	if (rev < 0)
		goto fail_db;
	plan->revision = (uint64_t)rev + 1;
	plan->generation = plan->revision > min_gen ? plan->revision : min_gen;
	/*
	 * the ids this plan keeps first, so that none is taken back; by key
	 * even when the plan has ids (a rollback): an old record's id may
	 * have been given to another since
	 */
	for (i = 0; i < plan->n_records; i++) {
		int64_t id = query_int(st, "SELECT template_id FROM "
		    "templates WHERE key = ?", plan->records[i]->key, 0);

		if (id < 0)
			goto fail_db;
		plan->records[i]->template_id = (uint32_t)id;
	}
	for (i = 0; i < plan->n_records; i++)
		if (plan->records[i]->template_id == 0 &&
		    assign_template(st, plan, plan->records[i], plan->revision,
		    err, errlen) == -1)
			goto fail;
	if (insert_revision(st, plan, source, author, comment, err,
	    errlen) == -1)
		goto fail;
	if (exec(st, "COMMIT", err, errlen) == -1)
		goto fail;
	return 0;
fail_db:
	db_error(st, err, errlen);
fail:
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	plan->revision = old_rev;
	plan->generation = old_gen;
	return -1;
}

/* The latest revision, 0 when none was committed; -1 on a failed read. */
int
store_latest(struct store *st, uint64_t *rev, char *err, size_t errlen)
{
	int64_t v = query_int(st, "SELECT max(id) FROM revisions", NULL, 0);

	*rev = 0;
	if (v < 0)
		return db_error(st, err, errlen);
	*rev = (uint64_t)v;
	return 0;
}

int
store_load(struct store *st, uint64_t rev, Netstream__Plan **plan,
    char **source, char *err, size_t errlen)
{
	sqlite3_stmt *s;
	int rc;

	*plan = NULL;
	if (source)
		*source = NULL;
	if (sqlite3_prepare_v2(st->db,
	    "SELECT plan, source FROM revisions WHERE id = ?", -1, &s,
	    NULL) != SQLITE_OK)
		return db_error(st, err, errlen);
	sqlite3_bind_int64(s, 1, (int64_t)rev);
	if ((rc = sqlite3_step(s)) != SQLITE_ROW) {
		if (rc == SQLITE_DONE)
			snprintf(err, errlen, "no revision %llu",
			    (unsigned long long)rev);
		else
			db_error(st, err, errlen);
		sqlite3_finalize(s);
		return -1;
	}
	*plan = netstream__plan__unpack(NULL,
	    (size_t)sqlite3_column_bytes(s, 0), sqlite3_column_blob(s, 0));
	if (source)
		*source = xstrdup((const char *)sqlite3_column_text(s, 1));
	sqlite3_finalize(s);
	if (*plan == NULL) {
		snprintf(err, errlen, "revision %llu: stored plan does not decode",
		    (unsigned long long)rev);
		if (source) {
			free(*source);
			*source = NULL;
		}
		return -1;
	}
	return 0;
}

/* Every revision, oldest first; -1 (and none) on a failed read. */
int
store_history(struct store *st, Netstream__RevisionInfo ***out, size_t *n,
    char *err, size_t errlen)
{
	sqlite3_stmt *s;
	size_t cap = 0, i;
	int rc;

	*out = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(st->db,
	    "SELECT id, time, author, comment FROM revisions ORDER BY id",
	    -1, &s, NULL) != SQLITE_OK)
		return db_error(st, err, errlen);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		Netstream__RevisionInfo *ri = xmalloc(sizeof(*ri));

		netstream__revision_info__init(ri);
		ri->revision = (uint64_t)sqlite3_column_int64(s, 0);
		ri->time = sqlite3_column_int64(s, 1);
		ri->author = pstrdup((const char *)sqlite3_column_text(s, 2));
		ri->comment = pstrdup((const char *)sqlite3_column_text(s, 3));
		/* stored before cfgd checked them: history must still decode */
		utf8_scrub(ri->author);
		utf8_scrub(ri->comment);
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			*out = xrealloc(*out, cap * sizeof(**out));
		}
		(*out)[(*n)++] = ri;
	}
	if (rc == SQLITE_DONE) {
		sqlite3_finalize(s);
		return 0;
	}
	db_error(st, err, errlen);
	sqlite3_finalize(s);
	for (i = 0; i < *n; i++)
		netstream__revision_info__free_unpacked((*out)[i], NULL);
	free(*out);
	*out = NULL;
	*n = 0;
	return -1;
}
