//! The state in PostgreSQL, locked with a session-level advisory lock.
//!
//! Three tables, created on first use: `berth_state` (the document of each state name),
//! `berth_state_backup` (the document the last save replaced) and `berth_locks` (who holds the
//! lock on each name, with the server process of its session).

use super::{Backend, BackendError, BoxFuture, LockGuard, LockInfo, backoff};
use std::str::FromStr;
use std::time::{Duration, Instant};
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, Config, NoTls};

/// The first key of berth's advisory locks (`bert` in ASCII); the second is `hashtext(name)`.
const LOCK_CLASS: i32 = 0x6265_7274;

/// The tables, created under a transaction-level advisory lock so that two first runs do not
/// race to create them.
const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS berth_state (
        name text PRIMARY KEY, data bytea NOT NULL, updated timestamptz NOT NULL);
    CREATE TABLE IF NOT EXISTS berth_state_backup (
        name text PRIMARY KEY, data bytea NOT NULL, updated timestamptz NOT NULL);
    CREATE TABLE IF NOT EXISTS berth_locks (
        name text PRIMARY KEY, id text NOT NULL, operation text NOT NULL, who text NOT NULL,
        pid bigint NOT NULL, created text NOT NULL, backend_pid integer NOT NULL,
        locked timestamptz NOT NULL);";

/// The state named `name` in a PostgreSQL database, for teams and CI runners that share it.
///
/// The lock is `pg_try_advisory_lock` held by a session of its own for as long as the
/// [`LockGuard`] lives, and every save goes through that session: the server releases the lock
/// when the session ends, also when the holder is killed, and a holder whose session is gone
/// can no longer write. Session-level locks need a direct connection or a session-pooling
/// proxy, not a transaction-pooling one.
#[derive(Debug, Clone)]
pub struct PostgresBackend {
    config: Config,
    name: String,
}

impl PostgresBackend {
    /// The state `name` in the database at `url`, a libpq connection URL or key-value string
    /// such as `postgres://berth@127.0.0.1:5432/infra`. Nothing is connected yet.
    pub fn new(url: &str, name: &str) -> Result<Self, BackendError> {
        let mut config = Config::from_str(url).map_err(|e| {
            BackendError::Failed(format!(
                "the PostgreSQL state URL is not valid: {e}; write it as postgres://USER@HOST:PORT/DATABASE"
            ))
        })?;
        if config.get_application_name().is_none() {
            config.application_name("berth");
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        Ok(PostgresBackend { config, name: name.to_string() })
    }

    /// A new session, its connection driven on the runtime until the client is dropped.
    async fn connect(&self) -> Result<Client, BackendError> {
        let (client, connection) = self.config.connect(NoTls).await.map_err(|e| {
            BackendError::Failed(format!(
                "cannot connect to PostgreSQL for state {}: {e}; check the URL and that the server is up",
                self.describe()
            ))
        })?;
        tokio::spawn(connection);
        Ok(client)
    }

    fn failed(&self, what: &str, e: &tokio_postgres::Error) -> BackendError {
        BackendError::Failed(format!("cannot {what} state {}: {e}", self.describe()))
    }

    async fn create_tables(&self, client: &mut Client) -> Result<(), BackendError> {
        let exists = client
            .query_one(
                "SELECT to_regclass('berth_state') IS NOT NULL AND to_regclass('berth_state_backup') IS NOT NULL
                    AND to_regclass('berth_locks') IS NOT NULL",
                &[],
            )
            .await
            .map_err(|e| self.failed("look up the tables of", &e))?;
        if exists.get(0) {
            return Ok(());
        }
        let tx = client.transaction().await.map_err(|e| self.failed("create the tables of", &e))?;
        tx.execute("SELECT pg_advisory_xact_lock($1, 0)", &[&LOCK_CLASS])
            .await
            .map_err(|e| self.failed("create the tables of", &e))?;
        tx.batch_execute(SCHEMA).await.map_err(|e| self.failed("create the tables of", &e))?;
        tx.commit().await.map_err(|e| self.failed("create the tables of", &e))
    }

    /// The holder of the lock on this name: the recorded holder whose session still holds it.
    async fn holder(&self, client: &Client) -> Result<Option<Box<LockInfo>>, BackendError> {
        let row = client
            .query_opt(
                "SELECT l.id, l.operation, l.who, l.pid, l.created FROM berth_locks l
                 JOIN pg_locks k ON k.pid = l.backend_pid AND k.locktype = 'advisory' AND k.granted
                     AND k.classid = $2::integer::oid AND k.objid = hashtext(l.name)::oid AND k.objsubid = 2
                 WHERE l.name = $1",
                &[&self.name, &LOCK_CLASS],
            )
            .await
            .map_err(|e| self.failed("find the holder of the lock on", &e))?;
        Ok(row.map(|r| {
            Box::new(LockInfo {
                id: r.get(0),
                operation: r.get(1),
                who: r.get(2),
                pid: u32::try_from(r.get::<_, i64>(3)).unwrap_or_default(),
                created: r.get(4),
            })
        }))
    }

    async fn read(&self, table: &str) -> Result<Option<Vec<u8>>, BackendError> {
        let client = self.connect().await?;
        match client.query_opt(&format!("SELECT data FROM {table} WHERE name = $1"), &[&self.name]).await {
            Ok(row) => Ok(row.map(|r| r.get(0))),
            Err(e) if e.code() == Some(&SqlState::UNDEFINED_TABLE) => Ok(None),
            Err(e) => Err(self.failed("read", &e)),
        }
    }
}

impl Backend for PostgresBackend {
    fn describe(&self) -> String {
        let host = match self.config.get_hosts().first() {
            Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
            Some(tokio_postgres::config::Host::Unix(dir)) => dir.display().to_string(),
            None => "localhost".to_string(),
        };
        let port = self.config.get_ports().first().copied().unwrap_or(5432);
        let db = self.config.get_dbname().or(self.config.get_user()).unwrap_or("postgres");
        format!("\"{}\" in PostgreSQL {db} at {host}:{port}", self.name)
    }

    fn lock<'a>(
        &'a self,
        info: &'a LockInfo,
        timeout: Duration,
    ) -> BoxFuture<'a, Result<Box<dyn LockGuard>, BackendError>> {
        Box::pin(async move {
            let mut client = self.connect().await?;
            self.create_tables(&mut client).await?;
            let deadline = Instant::now() + timeout;
            for attempt in 0.. {
                let locked: bool = client
                    .query_one("SELECT pg_try_advisory_lock($1, hashtext($2))", &[&LOCK_CLASS, &self.name])
                    .await
                    .map_err(|e| self.failed("lock", &e))?
                    .get(0);
                if locked {
                    client
                        .execute(
                            "INSERT INTO berth_locks (name, id, operation, who, pid, created, backend_pid, locked)
                             VALUES ($1, $2, $3, $4, $5, $6, pg_backend_pid(), now())
                             ON CONFLICT (name) DO UPDATE SET id = excluded.id, operation = excluded.operation,
                                 who = excluded.who, pid = excluded.pid, created = excluded.created,
                                 backend_pid = excluded.backend_pid, locked = excluded.locked",
                            &[&self.name, &info.id, &info.operation, &info.who, &i64::from(info.pid), &info.created],
                        )
                        .await
                        .map_err(|e| self.failed("record the holder of the lock on", &e))?;
                    let guard = PostgresLock { client, backend: self.clone(), id: info.id.clone() };
                    return Ok(Box::new(guard) as Box<dyn LockGuard>);
                }
                match backoff(attempt, deadline) {
                    Some(pause) => tokio::time::sleep(pause).await,
                    None => break,
                }
            }
            Err(BackendError::Locked { state: self.describe(), holder: self.holder(&client).await?, waited: timeout })
        })
    }

    fn load(&self) -> BoxFuture<'_, Result<Option<Vec<u8>>, BackendError>> {
        Box::pin(self.read("berth_state"))
    }

    fn load_backup(&self) -> BoxFuture<'_, Result<Option<Vec<u8>>, BackendError>> {
        Box::pin(self.read("berth_state_backup"))
    }
}

/// The held lock: the session that holds the advisory lock, through which every save goes.
struct PostgresLock {
    client: Client,
    backend: PostgresBackend,
    id: String,
}

impl LockGuard for PostgresLock {
    fn save<'a>(&'a mut self, bytes: &'a [u8]) -> BoxFuture<'a, Result<(), BackendError>> {
        Box::pin(async move {
            let backend = &self.backend;
            let fail = |e: tokio_postgres::Error| {
                BackendError::Failed(format!(
                    "cannot save state {}: {e}; nothing was written (a save is one transaction), and a \
                     run whose connection was lost no longer holds the lock: check the server, then run again",
                    backend.describe()
                ))
            };
            let tx = self.client.transaction().await.map_err(fail)?;
            tx.execute(
                "INSERT INTO berth_state_backup (name, data, updated)
                 SELECT name, data, updated FROM berth_state WHERE name = $1
                 ON CONFLICT (name) DO UPDATE SET data = excluded.data, updated = excluded.updated",
                &[&backend.name],
            )
            .await
            .map_err(fail)?;
            tx.execute(
                "INSERT INTO berth_state (name, data, updated) VALUES ($1, $2, now())
                 ON CONFLICT (name) DO UPDATE SET data = excluded.data, updated = excluded.updated",
                &[&backend.name, &bytes],
            )
            .await
            .map_err(fail)?;
            tx.commit().await.map_err(fail)
        })
    }

    fn release(self: Box<Self>) -> BoxFuture<'static, Result<(), BackendError>> {
        Box::pin(async move {
            let backend = &self.backend;
            self.client
                .execute("DELETE FROM berth_locks WHERE name = $1 AND id = $2", &[&backend.name, &self.id])
                .await
                .map_err(|e| backend.failed("clear the holder of the lock on", &e))?;
            self.client
                .execute("SELECT pg_advisory_unlock($1, hashtext($2))", &[&LOCK_CLASS, &backend.name])
                .await
                .map_err(|e| backend.failed("unlock", &e))?;
            Ok(())
        })
    }
}
