// Package probonusriver makes ProBonus credits durable: a credit is written as a River job
// (github.com/riverqueue/river) in the app's own database, in the same transaction as the order
// that earns it, and delivered by workers that run [probonus.AccountsService.RefillOnce] until it
// is applied, exactly once, across ProBonus outages, restarts, crashes and a fleet.
//
// # Enqueueing in the app's transaction
//
// [Credits.EnqueueTx] takes the app's own transaction: pgx.Tx on PostgreSQL ([NewPostgres]),
// *sql.Tx on SQLite ([NewSQLite], [OpenSQLite]); one API, generic over the transaction type.
// When the transaction rolls back there is no job; when it commits, the credit will be
// delivered.
//
//	tx, _ := db.BeginTx(ctx, nil)
//	// ... the app's own writes: the order is completed ...
//	_, err := credits.EnqueueTx(ctx, tx, probonus.Refill{AccountID: id, Amount: probonus.MustAmount("50"), Reason: probonus.Ptr("Order 1234")})
//	// ... then tx.Commit()
//
// Apps whose tables live in a database River has no driver for (MySQL) use [Credits.Enqueue]
// after their own commit: a durable spool, not an outbox. A process that dies between the app's
// commit and Enqueue's return loses the credit; such apps re-enqueue recent orders at start-up
// (a duplicate is harmless).
//
// # One job per credit
//
// The job's unique key is RefillOnce's: the account, the amount as an exact decimal with two
// places and the trimmed reason ([RefillArgs], whose JSON River hashes). "50" and "50.00" are one
// job; the same credit enqueued twice (a webhook delivered twice) writes nothing the second time
// and [Enqueued].Duplicate says so. The burn date is not part of the key (RefillOnce's key does
// not hold it, and the history it looks in does not show it): a second enqueue with another
// burn date is a duplicate, the first burn date stands, and EnqueueTx returns
// [ErrBurnDateDiffers] beside the result so the app notices. Unique in every state: while a
// credit is stuck, enqueueing it again is a duplicate of the stuck job (use [Credits.Retry]).
// The kind ([Kind]) carries a version, so a future change of the key never meets old rows. Keys
// are per queue, as RefillOnce's are per installation: an app that credits in two ProBonus
// installations from one database gives each its own Config.Queue.
//
// # What the worker does with each outcome
//
//   - credited, or found already applied: completed (the transaction id is in the job's
//     metadata);
//   - bad input, an unknown account (404), a validation refusal (422), a 400: cancelled, never
//     retried;
//   - the server asking to wait (429 or 503 with Retry-After, after the SDK's own retries):
//     snoozed for that long (at least the settle time when it answered a send so, which the SDK
//     counts as an uncertain send); a snooze costs no attempt;
//   - outcome unknown, the server down, the coordinator unavailable, other errors: retried with
//     River's backoff.
//
// An uncertain send is remembered in the job's metadata (when it ended, and the settle time),
// and every attempt first snoozes until that send has settled, so no path back into the job
// looks early: River's retry, a graceful stop (a job cut short in a settle wait is handed on with
// its uncertain send in its metadata, and the process that takes it snoozes it until the send has
// settled) and the rescue of a job whose worker died (River's RescueStuckJobsAfter is
// set longer than the job timeout plus the settle time, and a shorter one is refused). The
// job's timeout ([JobTimeout]) fits a whole RefillOnce. The time of an uncertain send is its
// worker's clock, and a job's age is the database's creation time on the worker's clock: a
// fleet's clocks must agree to well within the settle time (NTP does).
//
// A credit whose job is older than the lookback RefillOnce can verify, less a margin
// (Config.Lookback, Config.LookbackMargin), is never sent: it is cancelled with [ErrTooOld] and
// listed by [Credits.Stuck], with whether an attempt may have applied it. The default number of
// attempts ([DefaultMaxAttempts], about a day and a half of River's backoff) keeps a job well inside the
// 30 days.
//
// # What is stuck
//
// [Credits.Stuck] lists the credits River cancelled or discarded, each with the refill, the
// attempts, the last error and MayBeApplied. [Credits.Retry] puts one back (safe: the worker
// waits out a settle time and looks first) and refuses one past the lookback; [Credits.Dismiss]
// deletes one a person has dealt with. River UI (riverqueue.com/riverui) shows the same queue,
// kind probonus_refill_v1, to support staff: the args are the refill, the metadata's
// "probonus" key the module's memory of uncertain sends.
//
// # One machine, or a fleet
//
// SQLite is the embedded default: [OpenSQLite] opens or creates the file (WAL, full syncs),
// migrates it and starts the workers. River calls its SQLite driver early-stage. PostgreSQL is
// the fleet's: [NewPostgres], then [Credits.Migrate] or the app's own rivermigrate, then
// [Credits.Start] in every process.
//
// River's unique jobs suffice when every credit of a key goes through one queue: one job per
// key, worked by one process at a time. The Redis coordinator
// (probonus.WithRefillCoordinator(probonusredis.NewCoordinator(...)) in Config.ClientOptions)
// is still needed when the same key is also credited outside the queue (a direct RefillOnce
// elsewhere), or when each pod has an SQLite file of its own (two queues can hold the same key).
package probonusriver
