//! The PostgreSQL backend.

use crate::sql::impl_store;
use crate::{Backend, StoreError};
use sqlx::postgres::PgPoolOptions;
use sqlx::{PgPool, Postgres};

/// Store on a PostgreSQL server.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    const BACKEND: Backend = Backend::Postgres;

    /// Connects to the database named by a `postgres://…` URL.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .connect(url)
            .await?;
        Ok(Self { pool })
    }

    /// The connection pool, for tests and maintenance commands.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    async fn run_migrations(&self) -> Result<(), StoreError> {
        sqlx::migrate!("./migrations/postgres")
            .run(&self.pool)
            .await?;
        Ok(())
    }
}

impl_store!(PgStore, Postgres);
crate::accounts::impl_account_store!(PgStore);
crate::tokens::impl_token_store!(PgStore);
crate::service::impl_service_store!(PgStore, Postgres);
