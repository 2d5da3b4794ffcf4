/*
 * sqldb_checkpoint: a WAL file's checkpoints on a thread of their own.
 *
 * SQLite checkpoints, by default, inside the commit that takes the WAL past
 * 1,000 pages: that commit copies the pages back into the database and
 * fsyncs it.  A server that answers on one thread then holds every waiting
 * request behind it: a fifth of a SCIM PUT's CPU went there, and its
 * slowest answers.  Here a commit only wakes a thread that checkpoints on
 * a connection of its own, PASSIVE: that never blocks the writer or a
 * reader, which go on using the WAL meanwhile, and SQLite starts the WAL
 * over at the first commit after a checkpoint that copied all of it.
 */
#include <pthread.h>
#include <stdlib.h>

#include "log.h"
#include "sqldb.h"

/* Past this many times the threshold the checkpoints are not keeping up
 * (a writer faster than the disk): the writer checkpoints itself, as
 * SQLite would have, rather than let the WAL grow without end. */
#define CKPT_BEHIND 32

struct sqldb_checkpointer {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	sqlite3 *db;		/* the writer's connection, whose commits wake us */
	sqlite3 *own;		/* the thread's connection */
	int pages, due, stop;
	long runs;
};

static int on_commit(void *arg, sqlite3 *db, const char *name, int frames)
{
	struct sqldb_checkpointer *k = arg;

	if (frames >= k->pages * CKPT_BEHIND) {
		sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		return SQLITE_OK;
	}
	if (frames >= k->pages) {
		pthread_mutex_lock(&k->mu);
		k->due = 1;
		pthread_cond_signal(&k->cv);
		pthread_mutex_unlock(&k->mu);
	}
	return SQLITE_OK;
}

static void *run(void *arg)
{
	struct sqldb_checkpointer *k = arg;

	pthread_mutex_lock(&k->mu);
	for (;;) {
		while (!k->due && !k->stop)
			pthread_cond_wait(&k->cv, &k->mu);
		if (k->stop)
			break;
		k->due = 0;
		pthread_mutex_unlock(&k->mu);
		/* The bulk (and its fsyncs) without a lock the writer wants;
		 * then, at once, the few pages it wrote meanwhile under the
		 * writer's lock, which lets the WAL start over: a writer that
		 * never pauses would otherwise always find pages not yet
		 * copied, and the WAL would only grow.  No busy handler here:
		 * a writer in the middle of a transaction wins, and the next
		 * wake tries again. */
		if (sqlite3_wal_checkpoint_v2(k->own, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL,
					      NULL) != SQLITE_OK)
			log_debug("checkpoint: %s", sqlite3_errmsg(k->own));
		sqlite3_wal_checkpoint_v2(k->own, NULL, SQLITE_CHECKPOINT_RESTART, NULL, NULL);
		pthread_mutex_lock(&k->mu);
		k->runs++;
	}
	pthread_mutex_unlock(&k->mu);
	return NULL;
}

struct sqldb_checkpointer *sqldb_checkpointer_start(sqlite3 *db, int pages)
{
	struct sqldb_checkpointer *k;
	const char *path = sqlite3_db_filename(db, "main");

	/* an in-memory or temporary database has no WAL to checkpoint */
	if (!path || !*path || pages <= 0)
		return NULL;
	k = calloc(1, sizeof(*k));
	if (!k)
		return NULL;
	k->db = db;
	k->pages = pages;
	/* A connection opens the WAL on its first read, and a checkpoint on
	 * one that has not read yet quietly does nothing (SQLite 3.40). */
	if (sqlite3_open_v2(path, &k->own, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK ||
	    sqlite3_exec(k->own, "SELECT count(*) FROM sqlite_schema", NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	pthread_mutex_init(&k->mu, NULL);
	pthread_cond_init(&k->cv, NULL);
	if (pthread_create(&k->thread, NULL, run, k)) {
		pthread_cond_destroy(&k->cv);
		pthread_mutex_destroy(&k->mu);
		goto fail;
	}
	/* replaces SQLite's own checkpoint-on-commit hook */
	sqlite3_wal_hook(db, on_commit, k);
	return k;
fail:
	log_debug("checkpoints stay in the commits: no checkpoint thread for %s", path);
	sqlite3_close(k->own);
	free(k);
	return NULL;
}

long sqldb_checkpointer_runs(struct sqldb_checkpointer *k)
{
	long n;

	if (!k)
		return 0;
	pthread_mutex_lock(&k->mu);
	n = k->runs;
	pthread_mutex_unlock(&k->mu);
	return n;
}

void sqldb_checkpointer_stop(struct sqldb_checkpointer *k)
{
	if (!k)
		return;
	pthread_mutex_lock(&k->mu);
	k->stop = 1;
	pthread_cond_signal(&k->cv);
	pthread_mutex_unlock(&k->mu);
	pthread_join(k->thread, NULL);
	/* back to SQLite's own: the writer may go on alone */
	sqlite3_wal_autocheckpoint(k->db, 1000);
	sqlite3_close(k->own);
	pthread_cond_destroy(&k->cv);
	pthread_mutex_destroy(&k->mu);
	free(k);
}
