//! [`UserRepository`] over sea-orm.

use async_trait::async_trait;
use lia_domain::{
    Email, NewUser, PasswordHash, RepositoryError, User, UserCredentials, UserId, UserRepository,
    Username,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, Set,
};

use crate::database::Database;
use crate::entities::user;
use crate::error::repository_error;
use crate::mapping::user_from_row;
use crate::timestamps::to_db;

/// Accounts in the `users` table.
#[derive(Debug, Clone)]
pub struct SqlUserRepository {
    database: Database,
}

impl SqlUserRepository {
    /// A repository over `database` (cheap clones of its pools).
    #[must_use]
    pub fn new(database: Database) -> Self {
        Self { database }
    }
}

#[async_trait]
impl UserRepository for SqlUserRepository {
    #[tracing::instrument(skip_all)]
    async fn create(&self, new_user: NewUser) -> Result<User, RepositoryError> {
        let now = to_db(lia_domain::clock::now_utc());
        let session = self.database.write_session().await?;
        let row = user::ActiveModel {
            email: Set(new_user.email.as_str().to_owned()),
            username: Set(new_user.username.as_str().to_owned()),
            hashed_password: Set(new_user.password_hash.0),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&session)
        .await
        .map_err(repository_error);
        session.end(row).await.and_then(user_from_row)
    }

    #[tracing::instrument(skip(self))]
    async fn find_by_id(&self, id: UserId) -> Result<Option<User>, RepositoryError> {
        // `all` rather than `one`: a bound `LIMIT` makes SQLite prepare the statement again
        // on every execution, and a primary-key lookup needs no limit.
        let session = self.database.read_session().await?;
        let rows = user::Entity::find_by_id(id.0)
            .all(&session)
            .await
            .map_err(repository_error);
        let row = session.end(rows).await?.pop();
        row.map(user_from_row).transpose()
    }

    #[tracing::instrument(skip_all)]
    async fn find_credentials(
        &self,
        email: &Email,
    ) -> Result<Option<UserCredentials>, RepositoryError> {
        let session = self.database.read_session().await?;
        let row = user::Entity::find()
            .filter(user::Column::Email.eq(email.as_str()))
            .one(&session)
            .await
            .map_err(repository_error);
        let row = session.end(row).await?;
        row.map(|row| {
            let password_hash = PasswordHash(row.hashed_password.clone());
            user_from_row(row).map(|user| UserCredentials {
                user,
                password_hash,
            })
        })
        .transpose()
    }

    #[tracing::instrument(skip_all)]
    async fn exists(&self, email: &Email, username: &Username) -> Result<bool, RepositoryError> {
        let session = self.database.read_session().await?;
        let n_matching = user::Entity::find()
            .filter(
                Condition::any()
                    .add(user::Column::Email.eq(email.as_str()))
                    .add(user::Column::Username.eq(username.as_str())),
            )
            .count(&session)
            .await
            .map_err(repository_error);
        Ok(session.end(n_matching).await? > 0)
    }

    #[tracing::instrument(skip(self, hash))]
    async fn update_password_hash(
        &self,
        id: UserId,
        hash: PasswordHash,
    ) -> Result<(), RepositoryError> {
        let session = self.database.write_session().await?;
        let result = user::Entity::update_many()
            .col_expr(user::Column::HashedPassword, hash.0.into())
            .col_expr(
                user::Column::UpdatedAt,
                to_db(lia_domain::clock::now_utc()).into(),
            )
            .filter(user::Column::Id.eq(id.0))
            .exec(&session)
            .await
            .map_err(repository_error);
        let result = session.end(result).await?;
        if result.rows_affected == 0 {
            return Err(RepositoryError::NotFound);
        }
        Ok(())
    }
}
